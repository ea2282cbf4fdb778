import { apiRequest, isApiCallError } from './client.ts';
import { ROUTES } from './routes.ts';
import type { Identity, Operator } from './types.ts';

/**
 * Signs in; the server sets an HttpOnly session cookie. With the second factor on, the first try
 * without `totp` fails with `SECOND_FACTOR_REQUIRED` and the caller asks for the code.
 */
export async function login(username: string, password: string, totp?: string): Promise<Operator> {
  const { operator } = await apiRequest<{ operator: Operator }>(ROUTES.login, {
    body: totp === undefined ? { username, password } : { username, password, totp },
    quietUnauthenticated: true,
  });
  return operator;
}

export async function logout(): Promise<void> {
  await apiRequest<void>(ROUTES.logout, { quietUnauthenticated: true });
}

/** The signed-in operator and their scopes, or `undefined` when the cookie is missing or expired. */
export async function whoAmI(): Promise<Identity | undefined> {
  try {
    const answer = await apiRequest<Partial<Identity> & { operator: Operator }>(ROUTES.me, {
      quietUnauthenticated: true,
    });
    return { operator: answer.operator, scopes: answer.scopes ?? [] };
  } catch (error) {
    if (isApiCallError(error) && error.status === 401) return undefined;
    throw error;
  }
}

/** Starts turning on the second factor: a new secret for an authenticator app. */
export function setupTotp(): Promise<{ secret: string; uri: string }> {
  return apiRequest(ROUTES.totpSetup);
}

/** Confirms the second factor with a current code from the app. */
export async function enableTotp(code: string): Promise<Operator> {
  const { operator } = await apiRequest<{ operator: Operator }>(ROUTES.totpEnable, { body: { code } });
  return operator;
}

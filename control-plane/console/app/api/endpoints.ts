import { apiRequest, isApiError } from './client.ts';
import type { Operator, SessionGrant, SessionPage, SessionView } from './types.ts';

/** Signs in; the server sets an HttpOnly session cookie. */
export async function login(username: string, password: string): Promise<Operator> {
  const { operator } = await apiRequest<{ operator: Operator }>(
    'POST',
    '/api/auth/login',
    { username, password },
    { quietUnauthenticated: true },
  );
  return operator;
}

export async function logout(): Promise<void> {
  await apiRequest<void>('POST', '/api/auth/logout', undefined, { quietUnauthenticated: true });
}

/** The signed-in operator, or `undefined` when the cookie is missing or expired. */
export async function currentOperator(): Promise<Operator | undefined> {
  try {
    const { operator } = await apiRequest<{ operator: Operator }>('GET', '/api/auth/me', undefined, {
      quietUnauthenticated: true,
    });
    return operator;
  } catch (error) {
    if (isApiError(error) && error.status === 401) return undefined;
    throw error;
  }
}

/** Trades a connection code (bare digits) for the session and a relay grant. */
export function redeemCode(code: string): Promise<SessionGrant> {
  return apiRequest<SessionGrant>('POST', '/api/sessions/redeem', { code });
}

/** A fresh relay grant for a session the operator may (re)join. */
export function joinSession(sessionId: string): Promise<SessionGrant> {
  return apiRequest<SessionGrant>('POST', `/api/sessions/${encodeURIComponent(sessionId)}/join`);
}

export function endSession(sessionId: string): Promise<SessionView> {
  return apiRequest<SessionView>('POST', `/api/sessions/${encodeURIComponent(sessionId)}/end`);
}

export async function listActiveSessions(): Promise<SessionView[]> {
  const page = await apiRequest<SessionPage>('GET', '/api/sessions?status=active');
  return page.items;
}

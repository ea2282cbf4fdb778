import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppEnv, Principal } from '../http/app-env.ts';
import { ApiError } from '../http/problem.ts';
import type { Accounts, Services } from '../services.ts';
import { API_TOKEN_PREFIX, hashApiToken } from './api-tokens.ts';
import { hasScope, type Scope } from './scopes.ts';

export const SESSION_COOKIE = 'lifeline_session';

async function fromCookie(services: Services, token: string): Promise<Principal | undefined> {
  const claims = await services.tokens.verify('console', token).catch(() => undefined);
  if (!claims) return undefined;
  const row = await services.accounts.logins.withOperator(claims.jti);
  if (!row || row.operator.disabledAt || row.operator.id !== claims.sub) return undefined;
  if (row.login.expiresAt.getTime() < Date.now()) return undefined;
  return { kind: 'operator', operator: row.operator, loginSessionId: row.login.id };
}

async function fromBearer(services: Services, token: string): Promise<Principal | undefined> {
  if (!token.startsWith(API_TOKEN_PREFIX)) return undefined;
  const row = await services.accounts.apiTokens.byHash(hashApiToken(token));
  if (!row || row.operator.disabledAt) return undefined;
  if (row.token.expiresAt && row.token.expiresAt.getTime() < Date.now()) return undefined;
  await services.accounts.apiTokens.markUsed(row.token.id);
  return { kind: 'api-token', operator: row.operator, tokenId: row.token.id, scopes: row.token.scopes };
}

/**
 * Whether an operator may still open a relay socket: the account is not disabled and, for a grant made
 * through a console login, that login is neither logged out nor expired. Relay grants live a minute, so
 * one fetched just before a disable or a logout must not open a socket after it.
 */
export async function operatorMayConnect(
  accounts: Accounts,
  operatorId: string,
  loginSessionId: string | undefined,
): Promise<boolean> {
  const operator = await accounts.operators.get(operatorId);
  if (!operator || operator.disabledAt) return false;
  if (loginSessionId === undefined) return true;
  const row = await accounts.logins.withOperator(loginSessionId);
  return row !== undefined && row.operator.id === operatorId && row.login.expiresAt.getTime() >= Date.now();
}

/**
 * Whether a principal authenticated at the start of a request may still act, for requests held open
 * (long-polls): its operator is not disabled, and its console login or API token is neither revoked
 * nor expired.
 */
export async function principalStillValid(
  services: Pick<Services, 'accounts'>,
  principal: Principal,
): Promise<boolean> {
  if (principal.kind === 'operator')
    return operatorMayConnect(services.accounts, principal.operator.id, principal.loginSessionId);
  const row = await services.accounts.apiTokens.byId(principal.tokenId);
  if (!row || row.token.revokedAt || row.operator.disabledAt) return false;
  return !row.token.expiresAt || row.token.expiresAt.getTime() >= Date.now();
}

/**
 * Requires a console login cookie or an `Authorization: Bearer` API token.
 * Cookie-authenticated writes must come from an allowed origin, which stops cross-site requests.
 */
export function requireAuth(services: Services): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const authorization = c.req.header('authorization');
    let principal: Principal | undefined;
    if (authorization) {
      const [scheme, token] = authorization.split(' ');
      if (scheme?.toLowerCase() !== 'bearer' || !token) {
        throw new ApiError(401, 'UNAUTHENTICATED', 'Use "Authorization: Bearer <API token>".');
      }
      principal = await fromBearer(services, token);
      if (!principal)
        throw new ApiError(401, 'UNAUTHENTICATED', 'The API token is unknown, expired or revoked.');
    } else {
      const cookie = getCookie(c, SESSION_COOKIE);
      principal = cookie ? await fromCookie(services, cookie) : undefined;
      if (!principal) throw new ApiError(401, 'UNAUTHENTICATED', 'Log in to continue.');
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') assertSameOrigin(services, c);
    }
    c.set('principal', principal);
    await next();
  };
}

/** Refuses a browser request whose Origin is not the console's own. */
export function assertSameOrigin(services: Services, c: Context): void {
  const origin = c.req.header('origin');
  if (origin && !services.isAllowedOrigin(origin)) {
    throw new ApiError(403, 'FORBIDDEN', 'Cross-origin requests are not allowed.');
  }
}

/** Requires a scope on top of authentication. */
export function requireScope(scope: Scope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!hasScope(c.get('principal'), scope)) {
      throw new ApiError(403, 'FORBIDDEN', `This action needs the "${scope}" permission.`);
    }
    await next();
  };
}

/** The actor of an audit event for the current principal. */
export function auditActor(principal: Principal): { actorType: 'operator' | 'api-token'; actorId: string } {
  return principal.kind === 'operator'
    ? { actorType: 'operator', actorId: principal.operator.id }
    : { actorType: 'api-token', actorId: `${principal.operator.id}/${principal.tokenId}` };
}

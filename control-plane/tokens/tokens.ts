import { randomUUID } from 'node:crypto';
import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import { TOKEN_KINDS, type TokenKind } from '../../protocol/index.ts';
import { type KeyRing, SIGNING_ALG } from '../keys/signing-keys.ts';

export interface TokenClaims extends JWTPayload {
  sub: string;
  jti: string;
  exp: number;
  /** Session id, on relay tokens. */
  sid?: string;
  /** Display name of the operator, on relay-operator tokens. */
  name?: string;
  /** The console login a relay-operator token was issued to, so logging out closes its sockets. */
  lsid?: string;
  /** On relay-operator tokens of administrators: asking for control takes it. */
  adm?: boolean;
  /** The effective policy, on agent-policy tokens. */
  pol?: unknown;
}

/** Claims a caller may set; the registered ones (`iss`, `aud`, `iat`, `exp`) are always set here. */
export interface ClaimsInput {
  sub: string;
  jti?: string;
  sid?: string;
  name?: string;
  lsid?: string;
  adm?: boolean;
  pol?: unknown;
  /** Agent stamps: SHA-256 (base64url) of the executable the stamp is for. */
  exe?: string;
  /** Agent stamps for a prepared session: where and with what the agent joins the relay. */
  relay?: { url: string; token: string };
  /** Agent stamps for a prepared session: the session's signed policy. */
  policyToken?: string;
  /** Device orders: what the device is to do (protocol/device-orders.ts). */
  ord?: unknown;
}

export type TokenErrorKind = 'expired' | 'invalid';

/** A token that must be refused. The message is safe to return to the caller; it never echoes the token. */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    readonly kind: TokenErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isTokenError(error: unknown): error is TokenError {
  return error instanceof TokenError;
}

export interface TokenService {
  /** `audience` replaces the kind's own where one token is for one party only (device orders). */
  sign(kind: TokenKind, claims: ClaimsInput, ttlMs: number, audience?: string): Promise<string>;
  verify(kind: TokenKind, token: string): Promise<TokenClaims>;
}

/**
 * Signs and verifies Lifeline's JWTs: Ed25519 only (`alg` pinned), `kid` in the header, `iss` the
 * public URL, a per-kind `aud` and `typ`, `exp`, `iat` and `jti` always present.
 *
 * @example
 * const tokens = createTokenService(keys, 'https://help.example.org');
 * const jwt = await tokens.sign('relayOperator', { sub: operatorId, sid: sessionId }, 60_000);
 * const claims = await tokens.verify('relayOperator', jwt);
 */
export function createTokenService(keys: KeyRing, issuer: string): TokenService {
  const getKey: JWTVerifyGetKey = (header) => {
    const key = header.kid ? keys.publicKeys.get(header.kid) : undefined;
    if (!key) throw new TokenError('invalid', 'token signed with an unknown key');
    return key;
  };

  return {
    async sign(kind, claims, ttlMs, audience) {
      const { typ } = TOKEN_KINDS[kind];
      const aud = audience ?? TOKEN_KINDS[kind].aud;
      const now = Math.floor(Date.now() / 1000);
      const { sub, jti, ...extra } = claims;
      return new SignJWT(extra)
        .setProtectedHeader({ alg: SIGNING_ALG, kid: keys.current.kid, typ })
        .setIssuer(issuer)
        .setAudience(aud)
        .setSubject(sub)
        .setJti(jti ?? randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + Math.max(1, Math.ceil(ttlMs / 1000)))
        .sign(keys.current.privateKey);
    },

    async verify(kind, token) {
      const { aud, typ } = TOKEN_KINDS[kind];
      try {
        const { payload } = await jwtVerify(token, getKey, {
          algorithms: [SIGNING_ALG],
          issuer,
          audience: aud,
          typ,
          requiredClaims: ['exp', 'iat', 'jti', 'sub'],
        });
        return payload as TokenClaims;
      } catch (error) {
        if (error instanceof TokenError) throw error;
        if (error instanceof errors.JWTExpired)
          throw new TokenError('expired', 'token expired', { cause: error });
        throw new TokenError('invalid', 'token invalid', { cause: error });
      }
    },
  };
}

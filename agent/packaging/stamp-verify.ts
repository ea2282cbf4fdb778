import { decodeJwt, decodeProtectedHeader, errors, importJWK, type JWK, jwtVerify } from 'jose';
import { looksLikeJwt, type StampConfig, stampClaimsSchema } from '../../protocol/agent-stamp.ts';
import { TOKEN_KINDS } from '../../protocol/index.ts';
import { KindedError } from '../core/errors.ts';

/** How long the agent waits for the control plane's public keys, in milliseconds. */
export const JWKS_TIMEOUT_MS = 10_000;

/** Why a stamp was refused. */
export type StampErrorKind =
  | 'malformed'
  | 'tampered'
  | 'unknown-key'
  | 'expired'
  | 'unreachable'
  | 'wrong-server'
  | 'wrong-executable';

/** A stamp the agent must not act on. The message tells the end user what to do. */
export class StampError extends KindedError<StampErrorKind> {
  override readonly name = 'StampError';
}

/** True for a {@link StampError}, optionally of one kind. */
export function isStampError(error: unknown, kind?: StampErrorKind): error is StampError {
  return error instanceof StampError && (kind === undefined || error.kind === kind);
}

export interface VerifyStampOptions {
  /**
   * SHA-256 (base64url) of this executable without its stamp, checked against the `exe` claim; a
   * function so that the file is hashed only once the signature holds.
   */
  executableDigest?: () => Promise<string>;
  /** A server the user named (`--server`): a stamp for another server is refused. */
  expectedServer?: string;
  /** Test seam; the global fetch otherwise. */
  fetch?: typeof fetch;
}

/** Header parameters that carry or point at a key. A stamp never supplies its own key. */
const KEY_CARRYING_HEADERS = ['jwk', 'jku', 'x5c', 'x5u'] as const;

const ADVICE = 'Download the agent again from your help desk.';

/**
 * Verifies a stamp against the public keys of the control plane it names, never against a key the
 * stamp carries: the agent fetches `/.well-known/jwks.json` from the stamp's `iss` and needs the
 * stamp's `kid` there. Changing any claim (a different server, session or platform) breaks the
 * signature; pointing `iss` at another server fails because that server does not hold the key.
 *
 * @example
 * const config = await verifyStamp(jwt, { executableDigest: () => digestOf(ownExecutable(), length) });
 * await register(config.server, info);
 */
export async function verifyStamp(jwt: string, options: VerifyStampOptions = {}): Promise<StampConfig> {
  if (!looksLikeJwt(jwt))
    throw new StampError('malformed', `This agent's configuration is damaged. ${ADVICE}`);
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(jwt);
    unverified = decodeJwt(jwt);
  } catch (error) {
    throw new StampError('malformed', `This agent's configuration is damaged. ${ADVICE}`, { cause: error });
  }
  if (header.alg !== 'EdDSA' || header.typ !== TOKEN_KINDS.agentStamp.typ || typeof header.kid !== 'string')
    throw new StampError('malformed', `This agent's configuration is not a Lifeline stamp. ${ADVICE}`);
  if (KEY_CARRYING_HEADERS.some((name) => name in header))
    throw new StampError(
      'tampered',
      `This agent's configuration brings its own signing key and is refused. ${ADVICE}`,
    );
  const issuer = unverified.iss;
  if (typeof issuer !== 'string' || !URL.canParse(issuer) || !/^https?:$/.test(new URL(issuer).protocol))
    throw new StampError('malformed', `This agent's configuration names no server. ${ADVICE}`);
  if (options.expectedServer && new URL(options.expectedServer).origin !== new URL(issuer).origin) {
    throw new StampError(
      'wrong-server',
      `This agent was downloaded from ${new URL(issuer).origin} and connects only there, not to ${new URL(options.expectedServer).origin}.`,
    );
  }

  const key = await fetchKey(issuer, header.kid, options.fetch ?? fetch);
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(jwt, await importJWK(key, 'EdDSA'), {
      algorithms: ['EdDSA'],
      issuer,
      audience: TOKEN_KINDS.agentStamp.aud,
      typ: TOKEN_KINDS.agentStamp.typ,
      requiredClaims: ['iat', 'exp', 'jti', 'sub'],
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired)
      throw new StampError('expired', `This download has expired. ${ADVICE}`, { cause: error });
    throw new StampError(
      'tampered',
      `This agent's configuration was altered after ${new URL(issuer).host} signed it, so it is refused. ${ADVICE}`,
      { cause: error },
    );
  }
  const claims = stampClaimsSchema.safeParse(payload);
  if (!claims.success || (claims.data.sid === undefined) !== (claims.data.relay === undefined))
    throw new StampError('malformed', `This agent's configuration is incomplete. ${ADVICE}`);
  if (options.executableDigest && (await options.executableDigest()) !== claims.data.exe) {
    throw new StampError(
      'wrong-executable',
      `This agent's configuration was made for another build of the agent. ${ADVICE}`,
    );
  }
  const { iss, sub, sid, relay, policyToken, spki } = claims.data;
  return {
    server: iss,
    kid: header.kid,
    platform: sub,
    ...(spki ? { serverKey: spki } : {}),
    ...(sid && relay ? { session: { id: sid, relay, ...(policyToken ? { policyToken } : {}) } } : {}),
  };
}

/**
 * The server (`iss`) and its key pin (`spki`) a stamp claims, read before the stamp is verified: the
 * agent needs them to reach the server whose keys verify the stamp. Empty for a stamp that does not parse.
 */
export function claimedServer(jwt: string): { server?: string; serverKey?: string } {
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(jwt);
  } catch {
    return {};
  }
  const server = stampClaimsSchema.shape.iss.safeParse(claims.iss);
  const spki = stampClaimsSchema.shape.spki.safeParse(claims['spki']);
  return {
    ...(server.success ? { server: server.data } : {}),
    ...(spki.success && spki.data ? { serverKey: spki.data } : {}),
  };
}

async function fetchKey(issuer: string, kid: string, fetchImpl: typeof fetch): Promise<JWK> {
  const url = new URL('/.well-known/jwks.json', issuer);
  let body: unknown;
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(JWKS_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = await response.json();
  } catch (error) {
    throw new StampError(
      'unreachable',
      `Cannot reach ${url.origin} to check this agent's configuration. Check your network and try again.`,
      { cause: error },
    );
  }
  const keys = (body as { keys?: unknown } | undefined)?.keys;
  const key = Array.isArray(keys)
    ? (keys as JWK[]).find((k) => k && typeof k === 'object' && k.kid === kid && k.kty === 'OKP')
    : undefined;
  if (!key) {
    throw new StampError(
      'unknown-key',
      `${url.host} does not publish the key this agent's configuration was signed with: the file was altered, or the server's keys changed. ${ADVICE}`,
    );
  }
  return key;
}

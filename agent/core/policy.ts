import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { type Policy, policySchema, TOKEN_KINDS } from '../../protocol/index.ts';
import { AgentError } from './errors.ts';

/**
 * Verifies the session's policy token against the control plane's published keys (or `keys`, e.g.
 * those a resident device stored at enrolment) and returns the
 * policy the agent must enforce. Ed25519 only; the token must name this session. The relay never
 * sees or changes it, so a modified console or relay cannot widen what the device allows.
 */
export async function verifyPolicyToken(
  serverUrl: string,
  sessionId: string,
  token: string,
  keys: JWTVerifyGetKey = createRemoteJWKSet(new URL('/.well-known/jwks.json', serverUrl)),
): Promise<Policy> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      algorithms: ['EdDSA'],
      audience: TOKEN_KINDS.agentPolicy.aud,
      typ: TOKEN_KINDS.agentPolicy.typ,
      subject: sessionId,
      requiredClaims: ['exp', 'sub'],
    }));
  } catch (error) {
    throw new AgentError(
      'refused',
      'The session policy from the server is not validly signed; refusing to continue.',
      {
        cause: error,
      },
    );
  }
  const policy = policySchema.safeParse(payload['pol']);
  if (!policy.success) throw new AgentError('protocol', 'The session policy from the server is malformed.');
  return policy.data;
}

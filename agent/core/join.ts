import { type AgentPresence, agentGrantSchema } from '../../protocol/api/agent.ts';
import { normalizeConnectionCode, type PeerInfo, type ResultCode } from '../../protocol/index.ts';
import { postToControlPlane, refusalDetail } from './control-plane-call.ts';
import { AgentError } from './errors.ts';

/** A session the agent may attach to: which one, and how it joins the relay. */
export interface Attachment {
  sessionId: string;
  relay: { url: string; token: string };
  /** The session's signed policy; verify it with `verifyPolicyToken` before trusting it. */
  policyToken?: string | undefined;
}

/** The answer to a code typed by the end user: a session, or a result code to act on. */
export type JoinResult =
  | { ok: true; attachment: Attachment }
  | { ok: false; code: ResultCode; message: string };

/**
 * Operator-first flow with an agent that carries no session: the end user types the code the
 * operator gave them, and the agent trades it for the session with `POST /api/agent/join`
 * (`{ code, ...PeerInfo }` in, `{ sessionId, relay: { url, token } }` out, the same result codes as
 * redeeming: `CODE_INVALID`, `CODE_EXPIRED`, `CODE_USED`, `TOO_FREQUENT`). Wrong, used and expired
 * codes come back as results so the agent can say so and ask again; only transport failures throw.
 * `info.presence`, on an enrolled device, links the session to it (protocol/api/agent.ts).
 */
export async function joinWithCode(
  serverUrl: string,
  code: string,
  info: PeerInfo & AgentPresence,
): Promise<JoinResult> {
  const normalized = normalizeConnectionCode(code);
  if (!normalized) return { ok: false, code: 'CODE_INVALID', message: 'That is not a connection code.' };
  const answer = await postToControlPlane(
    serverUrl,
    '/api/agent/join',
    { ...info, code: normalized },
    agentGrantSchema,
  );
  if (!answer.ok) {
    const resultCode = answer.problem?.code;
    if (resultCode && resultCode !== 'NOT_FOUND')
      return { ok: false, code: resultCode, message: refusalDetail(answer) };
    throw new AgentError(
      'refused',
      `The server cannot attach this agent to a session: ${refusalDetail(answer)}`,
    );
  }
  const { sessionId, relay, policyToken } = answer.body;
  return { ok: true, attachment: { sessionId, relay: { url: relay.url, token: relay.token }, policyToken } };
}

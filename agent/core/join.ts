import {
  normalizeConnectionCode,
  type PeerInfo,
  RESULT_CODES,
  type ResultCode,
} from '../../protocol/index.ts';
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
 */
export async function joinWithCode(serverUrl: string, code: string, info: PeerInfo): Promise<JoinResult> {
  const normalized = normalizeConnectionCode(code);
  if (!normalized) return { ok: false, code: 'CODE_INVALID', message: 'That is not a connection code.' };
  let response: Response;
  try {
    response = await fetch(new URL('/api/agent/join', serverUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...info, code: normalized }),
    });
  } catch (error) {
    throw new AgentError('unreachable', `Cannot reach ${serverUrl}. Check the address and your network.`, {
      cause: error,
    });
  }
  const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (!response.ok) {
    const detail = typeof body?.['detail'] === 'string' ? body['detail'] : `HTTP ${response.status}`;
    const resultCode = RESULT_CODES.find((c) => c === body?.['code']);
    if (resultCode && resultCode !== 'NOT_FOUND') return { ok: false, code: resultCode, message: detail };
    throw new AgentError('refused', `The server cannot attach this agent to a session: ${detail}`);
  }
  const relay = body?.['relay'] as { url?: unknown; token?: unknown } | undefined;
  if (
    typeof body?.['sessionId'] !== 'string' ||
    typeof relay?.url !== 'string' ||
    typeof relay.token !== 'string'
  )
    throw new AgentError(
      'protocol',
      'The server answered in an unexpected format. Is this a Lifeline server?',
    );
  const policyToken = typeof body['policyToken'] === 'string' ? body['policyToken'] : undefined;
  return {
    ok: true,
    attachment: { sessionId: body['sessionId'], relay: { url: relay.url, token: relay.token }, policyToken },
  };
}

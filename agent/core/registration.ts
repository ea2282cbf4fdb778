import { type AgentPresence, agentRegistrationSchema } from '../../protocol/api/agent.ts';
import type { PeerInfo } from '../../protocol/index.ts';
import { postToControlPlane, refusalDetail } from './control-plane-call.ts';
import { AgentError } from './errors.ts';

export interface Registration {
  sessionId: string;
  code: string;
  displayCode: string;
  codeExpiresAt: Date;
  relay: { url: string; token: string };
  /** The effective policy, signed; verify with `verifyPolicyToken` before trusting it. */
  policyToken: string;
}

/**
 * Registers with the control plane (user-first flow) and receives a session, its code and a relay
 * token; `info.presence`, on an enrolled device, links the session to it (protocol/api/agent.ts).
 */
export async function register(serverUrl: string, info: PeerInfo & AgentPresence): Promise<Registration> {
  const answer = await postToControlPlane(serverUrl, '/api/agent/register', info, agentRegistrationSchema);
  if (!answer.ok) {
    throw new AgentError('refused', `The server refused to register this agent: ${refusalDetail(answer)}`);
  }
  const { sessionId, code, displayCode, codeExpiresAt, relay, policyToken } = answer.body;
  return {
    sessionId,
    code,
    displayCode,
    codeExpiresAt: new Date(codeExpiresAt),
    relay: { url: relay.url, token: relay.token },
    policyToken,
  };
}

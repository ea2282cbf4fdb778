import type { Policy } from '../../protocol/index.ts';
import type { Services } from '../services.ts';
import type { SessionRow } from './session-store.ts';

/** The longest an agent's relay token lives, in milliseconds; it is used only to open the socket. */
export const AGENT_RELAY_TOKEN_TTL_MS = 24 * 60 * 60_000;

/**
 * What an agent needs to join its session: the relay URL, a token for it, and the session's
 * effective policy signed by the control plane so the agent can enforce it.
 */
export async function agentGrant(services: Services, session: SessionRow) {
  const policy = session.policy as Policy;
  const lifetimeMs =
    policy.maxSessionMinutes > 0 ? policy.maxSessionMinutes * 60_000 : AGENT_RELAY_TOKEN_TTL_MS;
  return {
    relay: {
      url: `${services.config.publicUrl.replace(/^http/, 'ws')}/ws`,
      token: await services.tokens.sign(
        'relayAgent',
        { sub: session.id },
        Math.min(lifetimeMs, AGENT_RELAY_TOKEN_TTL_MS),
      ),
    },
    policy,
    policyToken: await services.tokens.sign(
      'agentPolicy',
      { sub: session.id, pol: policy },
      lifetimeMs + 60_000,
    ),
  };
}

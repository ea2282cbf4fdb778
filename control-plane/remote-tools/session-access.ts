import { canSeeOrganisation } from '../auth/scopes.ts';
import type { Principal } from '../http/app-env.ts';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import type { SessionRow } from '../sessions/session-store.ts';

/** What each API capability needs the agent to offer in its hello's `client.features`. */
export const FEATURES_FOR = {
  chat: ['chat'],
  files: ['files'],
  exec: ['exec'],
  shell: ['exec', 'shell'],
} as const satisfies Record<string, readonly string[]>;

/**
 * A session the principal may use through the API right now: visible to them (else 404), not ended
 * (410), its code redeemed when the end user started it (403, as for joining), and its agent
 * connected to this node (409 AGENT_OFFLINE).
 */
export async function usableSession(
  services: Services,
  principal: Principal,
  id: string,
): Promise<SessionRow> {
  const session = await services.store.get(id);
  if (!session || !canSeeOrganisation(principal, session.organisationId)) {
    throw new ApiError(404, 'SESSION_NOT_FOUND', 'No such session.');
  }
  if (session.status === 'ended') throw new ApiError(410, 'SESSION_ENDED', 'This session has ended.');
  if (session.initiator === 'agent' && !session.codeRedeemedAt) {
    throw new ApiError(403, 'FORBIDDEN', 'Redeem the code the user reads out first.');
  }
  if (!services.relay.isLive(id)) {
    throw new ApiError(
      409,
      'AGENT_OFFLINE',
      session.agentConnectedAt
        ? 'The agent of this session is not connected to this node.'
        : 'The agent has not connected yet. Wait for it with GET /api/sessions/{id}/wait?until=agent-connected.',
    );
  }
  return session;
}

/** Refuses with 409 NOT_SUPPORTED when the session's agent does not offer any of `features`. */
export function requireFeature(
  services: Services,
  id: string,
  features: readonly string[],
  what: string,
): void {
  const info = services.relay.agentInfo(id);
  if (!info)
    throw new ApiError(409, 'AGENT_OFFLINE', 'The agent of this session is not connected to this node.');
  const offered = info.features ?? [];
  if (!features.some((feature) => offered.includes(feature))) {
    throw new ApiError(
      409,
      'NOT_SUPPORTED',
      `This agent (${info.name} ${info.version}) does not offer ${what}. Update the agent on the device.`,
    );
  }
}

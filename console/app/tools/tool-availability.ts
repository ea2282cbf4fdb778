import { peerLabel } from '../session/describe.ts';
import type { SessionState } from '../session/session-state.ts';
import type { AccessRequests, AskableCapability } from './access-requests.ts';
import { offers, type ToolFeature } from './session-tools.ts';

/** The operator may ask the user for a capability they have not allowed. */
export interface AskOffer {
  capability: AskableCapability;
  /** Who is asked, as the button names them: the user's name, else the device. */
  user: string;
  access: AccessRequests;
}

/** Whether a tool shows at all, whether it can be used now, and if not, why. */
export interface ToolAvailability {
  /** The agent offers it (`hello.client.features`); tools it does not offer are hidden. */
  offered: boolean;
  usable: boolean;
  /** One or two sentences for the panel when it cannot be used. */
  reason: string | null;
  /** Set when the only thing missing is the user's permission (and `access` was given). */
  ask: AskOffer | null;
}

const TOOL_NAME: Record<ToolFeature, string> = {
  chat: 'chat',
  shell: 'shell access',
  files: 'file access',
  clipboard: 'clipboard sharing',
};

/**
 * Whether the operator can use `tool` in the session as it stands.
 * @example
 * toolAvailability('shell', state).reason // 'bob@desk-42 has not allowed shell access. …'
 */
export function toolAvailability(
  tool: ToolFeature,
  state: SessionState,
  access?: AccessRequests,
): ToolAvailability {
  const offered = offers(state.agent, tool);
  const peer = peerLabel(state.agent);
  const unusable = (reason: string, ask: AskOffer | null = null) => ({ offered, usable: false, reason, ask });
  switch (state.phase) {
    case 'connecting':
      return unusable('Connecting to the relay…');
    case 'waiting':
      return unusable(`Available once ${peer} has accepted the session.`);
    case 'lost':
      return unusable('The connection to the relay was lost. Reconnect to continue.');
    case 'declined':
    case 'ended':
    case 'failed':
      return unusable('The session is over.');
    case 'live':
      break;
  }
  if (!state.permissions[tool]) {
    return unusable(
      `${peer} has not allowed ${TOOL_NAME[tool]}. They can turn it on in the Lifeline window on their device.`,
      access ? { capability: tool, user: state.agent?.user ?? peer, access } : null,
    );
  }
  return { offered, usable: true, reason: null, ask: null };
}

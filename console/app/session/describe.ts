import { inertDeviceText } from '../../../protocol/index.ts';
import type { AgentView, SessionView } from '../api/types.ts';
import { otherInControl, type SessionState } from './session-state.ts';

/** The longest label of the other end, in characters. */
const PEER_LABEL_MAX_CHARS = 200;

/**
 * How the operator refers to the person on the other end: `alice@desk-42` when the agent said
 * both, else whatever it said — inert (no control or bidirectional characters), since the device
 * says it; views show it with `DeviceText`.
 */
export function peerLabel(agent: AgentView | null | undefined): string {
  if (!agent) return 'the user';
  const label =
    agent.user && agent.hostname
      ? `${agent.user}@${agent.hostname}`
      : (agent.hostname ?? agent.user ?? agent.name ?? 'the user');
  return inertDeviceText(label, PEER_LABEL_MAX_CHARS);
}

const END_REASON_TEXT: Record<string, string> = {
  'operator-ended': 'You ended the session.',
  'user-ended': 'The user ended the session.',
  'consent-refused': 'The user declined the request.',
  'agent-disconnected': "The user's device disconnected.",
  'code-expired': 'The connection code expired before the session started.',
  'admin-ended': 'An administrator ended the session.',
  'server-shutdown': 'The control plane shut down. Ask the user to start a new session.',
  'server-restart':
    "The control plane restarted and the user's device did not reconnect in time. Ask the user to start a new session.",
  error: 'The session ended because of an error.',
  'idle-timeout': 'The session ended after a time without activity, as its policy says.',
  'max-duration': 'The session reached the longest time its policy allows.',
};

/** A sentence for an end reason of the protocol (`END_REASONS`); unknown reasons still read well. */
export function endReasonText(reason: string | null | undefined): string {
  return (reason && END_REASON_TEXT[reason]) || 'The session ended.';
}

const RELAY_ERROR_TEXT: Record<string, string> = {
  TOKEN_INVALID: 'The relay did not accept this console. Rejoin the session to get a new pass.',
  PROTOCOL_UNSUPPORTED: 'This console is too old or too new for the relay. Reload the page.',
  SESSION_NOT_FOUND: 'This session does not exist any more.',
  SESSION_ENDED: 'This session has already ended.',
  AGENT_OFFLINE: "The user's device is not connected right now.",
  FORBIDDEN: 'You are not allowed to join this session.',
  HELLO_TIMEOUT: 'The relay gave up waiting for the console.',
};

/** What to tell the operator when the relay refuses the connection with a result code. */
export function relayErrorText(code: string, message: string | undefined): string {
  return message?.trim() || RELAY_ERROR_TEXT[code] || 'The relay refused the connection.';
}

/** Who holds control, seen from a console that does not send input: another operator, or nobody. */
function holderText(state: SessionState): string {
  const holder = otherInControl(state);
  return holder ? `${holder.name} is in control` : 'view only';
}

/** The one-line status shown above the screen (`[data-testid=session-status]`). */
export function statusText(state: SessionState): string {
  const peer = peerLabel(state.agent);
  switch (state.phase) {
    case 'connecting':
      return 'Connecting to the relay…';
    case 'waiting':
      return `Waiting for ${peer} to accept…`;
    case 'live':
      if (!state.permissions.view) return `Connected to ${peer} · screen sharing paused`;
      if (!state.hasPicture) return 'Accepted · starting video…';
      if (state.inControl) return `Connected to ${peer} · you are in control`;
      return `Connected to ${peer} · ${holderText(state)}`;
    case 'declined':
      return 'The user declined';
    case 'ended':
      return 'Session ended';
    case 'lost':
      return 'Connection lost';
    case 'failed':
      return 'Could not connect';
  }
}

/** "3 min ago"-style age of a session for the dashboard. */
export function sessionAge(session: SessionView, now = Date.now()): string {
  const started = Date.parse(session.createdAt);
  if (Number.isNaN(started)) return '';
  const seconds = Math.max(0, Math.round((now - started) / 1000));
  if (seconds < 60) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min ago`;
}

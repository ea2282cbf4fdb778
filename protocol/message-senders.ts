import type { ControlMessageType } from './messages.ts';

/** Who puts a control message on the wire: the agent, an operator's console (or the API), or the relay. */
export type Sender = 'agent' | 'operator' | 'relay';

/**
 * Which side may send what. The relay drops (and counts) a message from a side not listed for it,
 * whatever the schema would accept, and passes on or answers only what is listed here. A message the
 * relay forwards is listed for its origin and for the relay.
 */
export const MESSAGE_SENDERS: Readonly<Record<ControlMessageType, readonly Sender[]>> = {
  hello: ['agent', 'operator'],
  welcome: ['relay'],
  error: ['relay'],
  'operator-joined': ['relay'],
  'operator-left': ['relay'],
  consent: ['agent', 'relay'],
  permissions: ['agent', 'relay'],
  'permission-request': ['operator', 'relay'],
  'video-config': ['agent', 'relay'],
  'request-keyframe': ['operator', 'relay'],
  'cursor-shape': ['agent', 'relay'],
  'cursor-position': ['agent', 'relay'],
  heartbeat: ['agent', 'operator', 'relay'],
  'agent-status': ['relay'],
  input: ['operator', 'relay'],
  end: ['agent', 'operator', 'relay'],
  chat: ['agent', 'operator', 'relay'],
  'channel-close': ['agent', 'operator', 'relay'],
  'channel-error': ['agent', 'relay'],
  'shell-open': ['operator', 'relay'],
  'shell-opened': ['agent', 'relay'],
  'shell-resize': ['operator', 'relay'],
  'shell-exit': ['agent', 'relay'],
  exec: ['operator', 'relay'],
  'file-list': ['operator', 'relay'],
  'file-listing': ['agent', 'relay'],
  'file-read': ['operator', 'relay'],
  'file-info': ['agent', 'relay'],
  'file-write': ['operator', 'relay'],
  'file-ready': ['agent', 'relay'],
  'file-offered': ['agent', 'relay'],
  'file-ack': ['agent', 'operator', 'relay'],
  'file-end': ['agent', 'operator', 'relay'],
  'file-done': ['agent', 'relay'],
  'file-op': ['operator', 'relay'],
  'file-op-done': ['agent', 'relay'],
  participants: ['relay'],
  'join-answer': ['agent'],
  'operator-remove': ['agent'],
  'control-request': ['operator', 'relay'],
  'control-grant': ['operator'],
  'control-decline': ['operator', 'relay'],
  monitors: ['agent', 'relay'],
  'select-monitor': ['operator', 'relay'],
  clipboard: ['agent', 'operator', 'relay'],
  guidance: ['operator', 'relay'],
  ping: ['operator', 'relay'],
  pong: ['agent', 'relay'],
  'video-received': ['operator'],
  'video-backlog': ['relay'],
  'video-preference': ['operator', 'relay'],
  'video-adaptation': ['agent', 'relay'],
};

/** Whether `sender` may put a message of `type` on the wire. */
export function maySend(sender: Sender, type: ControlMessageType): boolean {
  return MESSAGE_SENDERS[type].includes(sender);
}

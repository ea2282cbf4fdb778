import {
  type ControlMessage,
  decodeFrame,
  encodeControl,
  FrameKind,
  maySend,
  type Permissions,
} from '../../protocol/index.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../logger.ts';
import type { SessionStore } from '../sessions/session-store.ts';
import { type ChannelRouter, isAgentChannelMessage, isOperatorChannelMessage } from './channel-router.ts';
import type { ChatRouter } from './chat-router.ts';
import type { ClipboardRouter } from './clipboard-router.ts';
import { type LiveSession, type OperatorSide, sendBounded } from './live-session.ts';
import type { OperatorRoster } from './operator-roster.ts';
import type { PermissionRequests } from './permission-requests.ts';
import type { RelayCounters } from './relay-counters.ts';
import type { SessionLifecycle } from './session-lifecycle.ts';

/** Control messages that make the server write (an audit row, a log line, a recording event). */
const WRITING_MESSAGES: ReadonlySet<ControlMessage['type']> = new Set([
  'chat',
  'clipboard',
  'permissions',
  'permission-request',
  'consent',
  'end',
  'shell-open',
  'exec',
  'file-read',
  'file-write',
  'file-op',
  'join-answer',
  'operator-remove',
  'control-request',
  'control-grant',
  'control-decline',
]);

export interface DispatchOptions {
  store: SessionStore;
  audit: AuditLog;
  logger: Logger;
  lifecycle: SessionLifecycle;
  counters: RelayCounters;
  channels: ChannelRouter;
  chat: ChatRouter;
  clipboard: ClipboardRouter;
  permissionRequests: PermissionRequests;
  roster: OperatorRoster;
}

/**
 * Routes an attached peer's frames: video from the agent to the operators, file and shell frames and
 * channel messages through the channel router, chat, consent, permissions and input to whom they
 * concern. Malformed and out-of-state frames are dropped and counted; messages that make the server
 * write are dropped once their connection passed its budget (`mayWrite`).
 */
export class Dispatch {
  constructor(private readonly options: DispatchOptions) {}

  fromAgent(session: LiveSession, data: Uint8Array, mayWrite: () => boolean): void {
    const { counters, channels } = this.options;
    if (data[0] === FrameKind.video) {
      // The hot path: the header is checked (no copy); the H.264 payload is the operators' decoders' to judge.
      const decoded = decodeFrame(data);
      if (decoded.ok) session.forwardVideo(data);
      else counters.malformedFrames++;
      return;
    }
    if (data[0] === FrameKind.file || data[0] === FrameKind.shell) {
      channels.fromAgentFrame(session, data);
      return;
    }
    const message = this.decodeControl(data);
    if (!message) return;
    if (!maySend('agent', message.type)) {
      counters.malformedFrames++;
      return;
    }
    if (isAgentChannelMessage(message)) {
      channels.fromAgent(session, message);
      return;
    }
    if (message.type === 'heartbeat') {
      session.toAgent(message);
      return;
    }
    if (!fitsAgentState(session, message)) {
      counters.outOfStateMessages++;
      return;
    }
    if (WRITING_MESSAGES.has(message.type) && !mayWrite()) return;
    switch (message.type) {
      case 'chat':
        this.options.chat.fromAgent(session, message);
        return;
      case 'clipboard':
        this.options.clipboard.fromAgent(session, message);
        return;
      case 'monitors':
        session.monitors = message;
        session.toOperators(message);
        return;
      case 'pong':
        // The answer to one operator's `ping` goes back to that operator only.
        if (message.slot !== undefined) {
          const side = session.operatorOfSlot(message.slot);
          if (side) sendBounded(side.peer, encodeControl(message));
        }
        return;
      case 'consent':
        this.options.lifecycle
          .consent(session, message)
          .catch((error: unknown) =>
            this.options.logger.error({ err: error, sessionId: session.id }, 'could not record a consent'),
          );
        return;
      case 'permissions': {
        const unchanged = samePermissions(session.permissions, message.permissions);
        session.permissions = message.permissions;
        // Operators always hear it (it answers their request); an unchanged answer is no new event.
        session.toOperators(message);
        if (unchanged) return;
        session.recorder?.event('session.permissions', { permissions: message.permissions });
        this.options.store
          .recordPermissions(session.id, message.permissions)
          .catch((error: unknown) =>
            this.options.logger.error({ err: error, sessionId: session.id }, 'could not store permissions'),
          );
        void this.options.audit.record({
          actorType: 'agent',
          actorId: session.id,
          action: 'session.permissions',
          sessionId: session.id,
          details: { permissions: message.permissions },
        });
        return;
      }
      case 'cursor-shape':
      case 'cursor-position':
        session.forwardCursor(message);
        return;
      case 'video-adaptation':
        session.videoAdaptation = message;
        session.toOperators(message);
        return;
      case 'video-config':
        session.videoConfig = message;
        session.recorder?.json('videoConfig', message);
        session.toOperators(message);
        return;
      case 'end':
        void this.options.lifecycle.endSession(
          session,
          message.reason === 'consent-refused' ? 'consent-refused' : 'user-ended',
        );
        return;
      case 'join-answer':
      case 'operator-remove': {
        const side = session.operatorOfSlot(message.slot);
        // Only a connection waiting can be let in or turned away, and only one let in removed.
        const waiting = message.type === 'join-answer';
        if (!side || side.admitted === waiting) {
          counters.outOfStateMessages++;
          return;
        }
        if (message.type === 'join-answer' && message.accepted) {
          this.options.roster.admit(session, side);
          return;
        }
        if (waiting) this.options.roster.refuse(session, side);
        else this.options.roster.remove(session, side);
        this.options.lifecycle.operatorLeft(session, side);
        return;
      }
      default:
        counters.malformedFrames++;
    }
  }

  fromOperator(
    session: LiveSession,
    side: OperatorSide,
    data: Uint8Array,
    mayWrite: () => boolean = () => true,
  ): void {
    if (data[0] === FrameKind.file || data[0] === FrameKind.shell) {
      this.options.channels.fromOperatorFrame(session, side, data);
      return;
    }
    const message = this.decodeControl(data);
    if (!message) return;
    if (!maySend('operator', message.type)) {
      this.options.counters.malformedFrames++;
      return;
    }
    // Until the end user lets it in, a connection to a session under way only keeps itself alive.
    if (!session.takesPart(side) && message.type !== 'heartbeat') {
      this.options.counters.outOfStateMessages++;
      return;
    }
    if (WRITING_MESSAGES.has(message.type) && !mayWrite()) {
      // A request that opens a channel is answered, not lost: the console waits and sends it again.
      if (isOperatorChannelMessage(message))
        side.peer.send(
          encodeControl({
            type: 'channel-error',
            channel: message.channel,
            code: 'TOO_FREQUENT',
            message:
              'Too many requests at once: this one did not reach the device. Send it again in a moment.',
          }),
        );
      return;
    }
    if (isOperatorChannelMessage(message)) {
      this.options.channels.fromOperator(session, side, message);
      return;
    }
    switch (message.type) {
      case 'chat':
        this.options.chat.fromOperator(session, side, message);
        return;
      case 'clipboard':
        // Putting text on the user's clipboard is like typing it: only the operator in control may.
        if (this.options.roster.mayInput(session, side))
          this.options.clipboard.fromOperator(session, side, message);
        return;
      case 'select-monitor':
        // What the screen shows is the viewers' choice only while the user lets them see it.
        if (session.allows('view')) session.toAgent(message);
        return;
      case 'ping':
        session.toAgent({ type: 'ping', id: message.id, slot: side.slot });
        return;
      case 'video-received':
        session.videoReceived(side, message.bytes, message.behind);
        return;
      case 'video-preference':
        // Like the monitor, how the picture adapts is the viewers' choice while they may see it.
        if (session.allows('view')) session.toAgent(message);
        else this.options.counters.outOfStateMessages++;
        return;
      case 'guidance':
        // Marks reach the device only while the user allows guidance and the policy permits it (the
        // agent checks again); the slot tells the device whose marks a `clear` removes.
        if (session.allows('guidance'))
          session.toAgent({
            type: 'guidance',
            mark: message.mark,
            slot: side.slot,
            colour: session.colourOf(side.operatorId),
          });
        else this.options.counters.outOfStateMessages++;
        return;
      case 'permission-request':
        this.options.permissionRequests.fromOperator(session, side, message);
        return;
      case 'input':
        // Defence in depth only: the agent enforces the policy and the user's permissions itself.
        session.lastActivityAt = Date.now();
        if (
          session.consent === 'accepted' &&
          session.permissions.control &&
          session.policy?.modes.control !== false &&
          this.options.roster.mayInput(session, side)
        ) {
          session.toAgent(message);
        }
        return;
      case 'control-request':
        if (session.consent !== 'accepted' || !this.options.roster.request(session, side))
          this.options.counters.outOfStateMessages++;
        return;
      case 'control-grant':
        if (!this.options.roster.grant(session, side, message.slot))
          this.options.counters.outOfStateMessages++;
        return;
      case 'control-decline':
        if (!this.options.roster.decline(session, side, message.slot))
          this.options.counters.outOfStateMessages++;
        return;
      case 'heartbeat':
        side.peer.send(encodeControl(message));
        return;
      case 'request-keyframe':
        side.needsKeyframe = true;
        session.requestKeyframe();
        return;
      case 'end':
        void this.options.lifecycle.endSession(session, 'operator-ended', side.operatorId);
        return;
      default:
        this.options.counters.malformedFrames++;
    }
  }

  private decodeControl(data: Uint8Array): ControlMessage | undefined {
    const decoded = decodeFrame(data);
    if (!decoded.ok || decoded.frame.kind !== 'control') {
      this.options.counters.malformedFrames++;
      return undefined;
    }
    return decoded.frame.message;
  }
}

/**
 * Whether an agent's message belongs to the session's state. Chat, permission changes and who else
 * may join mean something only once the end user accepted (before that nobody reads them), and
 * consent answers an operator's arrival, once: anything else would only fill the audit log.
 */
function fitsAgentState(session: LiveSession, message: ControlMessage): boolean {
  switch (message.type) {
    case 'chat':
    case 'clipboard':
    case 'permissions':
      return session.consent === 'accepted';
    case 'consent':
      return session.consent === 'pending' && session.operators.size > 0;
    case 'join-answer':
    case 'operator-remove':
      // Who else joins is asked, and who is removed chosen, only once the user accepted the first.
      return session.consent === 'accepted';
    default:
      return true;
  }
}

function samePermissions(a: Permissions, b: Permissions): boolean {
  return (Object.keys(a) as (keyof Permissions)[]).every((key) => a[key] === b[key]);
}

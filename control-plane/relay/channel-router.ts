import {
  CAPABILITY_LABELS,
  type Capability,
  type ControlMessage,
  decodeFrame,
  encodeControl,
  type MessageOf,
  maskCommand,
  ShellStream,
  slotOf,
} from '../../protocol/index.ts';
import type { AuditEntry, AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../logger.ts';
import { BackgroundAudit } from './background-audit.ts';
import { type LiveSession, type OperatorSide, sendBounded } from './live-session.ts';

/** Channel messages an operator connection may send to the agent. */
export const OPERATOR_CHANNEL_TYPES = [
  'channel-close',
  'shell-open',
  'shell-resize',
  'exec',
  'file-list',
  'file-read',
  'file-write',
  'file-ack',
  'file-end',
  'file-op',
] as const satisfies readonly ControlMessage['type'][];

/** Channel messages the agent may send to the operator connection that owns the channel. */
export const AGENT_CHANNEL_TYPES = [
  'channel-close',
  'channel-error',
  'shell-opened',
  'shell-exit',
  'file-listing',
  'file-info',
  'file-offered',
  'file-ready',
  'file-ack',
  'file-end',
  'file-done',
  'file-op-done',
] as const satisfies readonly ControlMessage['type'][];

export type OperatorChannelMessage = MessageOf<(typeof OPERATOR_CHANNEL_TYPES)[number]>;
export type AgentChannelMessage = MessageOf<(typeof AGENT_CHANNEL_TYPES)[number]>;

const operatorTypes = new Set<string>(OPERATOR_CHANNEL_TYPES);
const agentTypes = new Set<string>(AGENT_CHANNEL_TYPES);

/** Whether an operator's control message belongs to a channel (and so to this router). */
export function isOperatorChannelMessage(message: ControlMessage): message is OperatorChannelMessage {
  return operatorTypes.has(message.type);
}

/** Whether the agent's control message belongs to a channel (and so to this router). */
export function isAgentChannelMessage(message: ControlMessage): message is AgentChannelMessage {
  return agentTypes.has(message.type);
}

/** Longest command text kept in the audit log, in characters. */
export const MAX_AUDITED_COMMAND_CHARS = 2000;

/** The capability an operator's channel message needs; channel-close needs none (it only stops). */
function capabilityOf(message: OperatorChannelMessage): Capability | undefined {
  switch (message.type) {
    case 'channel-close':
      return undefined;
    case 'shell-open':
    case 'shell-resize':
    case 'exec':
      return 'shell';
    default:
      return 'files';
  }
}

/** Why a capability is refused, in words the operator can act on. */
export function capabilityRefusal(capability: Capability): string {
  return `The end user has not allowed "${CAPABILITY_LABELS[capability]}" on their device (or the session's policy forbids it).`;
}

export interface ChannelRouterOptions {
  audit: AuditLog;
  logger: Logger;
  /** Counts a frame dropped because it broke the protocol (a foreign slot, a wrong direction). */
  malformed(): void;
  /** Counts a file or shell frame dropped because the capability it needs is not allowed. */
  refused(): void;
  /** Counts an agent frame for a channel whose operator connection is gone. */
  unrouted(): void;
}

/**
 * Routes the channels of shells, commands and file transfers (protocol/channels.ts). Operators may
 * only use channel ids of their own slot and only for what the end user allowed; the agent's answers
 * go to the one operator connection whose slot the channel carries. No table of channels is kept:
 * the slot in the id is the route.
 */
export class ChannelRouter {
  /** The JumpCloud-style audit of each background-access session (background-audit.ts). */
  private readonly background = new WeakMap<LiveSession, BackgroundAudit>();

  constructor(private readonly options: ChannelRouterOptions) {}

  private backgroundOf(session: LiveSession): BackgroundAudit | undefined {
    if (session.access !== 'background') return undefined;
    let audit = this.background.get(session);
    if (!audit) {
      audit = new BackgroundAudit((s, side, action, details) => this.record(s, side, action, details));
      this.background.set(session, audit);
    }
    return audit;
  }

  /** An operator's channel control message, on its way to the agent. */
  fromOperator(session: LiveSession, side: OperatorSide, message: OperatorChannelMessage): void {
    if (slotOf(message.channel) !== side.slot) {
      this.options.malformed();
      return;
    }
    session.lastActivityAt = Date.now();
    const capability = capabilityOf(message);
    if (capability && !session.allows(capability)) {
      sendBounded(
        side.peer,
        encodeControl({
          type: 'channel-error',
          channel: message.channel,
          code: 'CAPABILITY_NOT_ALLOWED',
          message: capabilityRefusal(capability),
        }),
      );
      return;
    }
    session.toAgent(message);
    this.auditRequest(session, side, message);
    this.backgroundOf(session)?.request(session, side, message);
  }

  /** An operator's file chunk or keystrokes, on their way to the agent. */
  fromOperatorFrame(session: LiveSession, side: OperatorSide, data: Uint8Array): void {
    const decoded = decodeFrame(data);
    if (!decoded.ok || (decoded.frame.kind !== 'file' && decoded.frame.kind !== 'shell')) {
      this.options.malformed();
      return;
    }
    if (slotOf(decoded.frame.channel) !== side.slot) {
      this.options.malformed();
      return;
    }
    session.lastActivityAt = Date.now();
    if (!session.allows(decoded.frame.kind === 'file' ? 'files' : 'shell')) {
      // No answer per frame: the refusal of the request that opened the channel already said why.
      this.options.refused();
      return;
    }
    if (decoded.frame.kind === 'shell' && decoded.frame.stream === ShellStream.terminal)
      this.backgroundOf(session)?.keystrokes(session, side, decoded.frame.channel, decoded.frame.data);
    sendBounded(session.agent.peer, data);
  }

  /** The agent's answer on a channel, for the operator connection that owns it. */
  fromAgent(session: LiveSession, message: AgentChannelMessage): void {
    const side = session.operatorOfSlot(slotOf(message.channel));
    if (!side) {
      this.options.unrouted();
      return;
    }
    this.auditCommandEnd(session, side, message);
    this.backgroundOf(session)?.answer(session, side, message);
    sendBounded(side.peer, encodeControl(message));
  }

  /** The agent's file chunk or command output, for the operator connection that owns its channel. */
  fromAgentFrame(session: LiveSession, data: Uint8Array): void {
    const decoded = decodeFrame(data);
    if (!decoded.ok || (decoded.frame.kind !== 'file' && decoded.frame.kind !== 'shell')) {
      this.options.malformed();
      return;
    }
    const side = session.operatorOfSlot(slotOf(decoded.frame.channel));
    if (!side) {
      this.options.unrouted();
      return;
    }
    // A terminal's output is part of a recording (exported as asciicast); commands' output is not.
    if (decoded.frame.kind === 'shell' && decoded.frame.stream === ShellStream.terminal)
      session.recorder?.shell(data);
    sendBounded(side.peer, data);
  }

  private auditRequest(session: LiveSession, side: OperatorSide, message: OperatorChannelMessage): void {
    switch (message.type) {
      case 'shell-open':
        // The size is for the recording's terminal (asciicast export), not for the audit log.
        this.record(
          session,
          side,
          'shell.open',
          { channel: message.channel },
          { cols: message.cols, rows: message.rows },
        );
        return;
      case 'shell-resize':
        // For the recording's terminal size (asciicast export); not an audited action.
        session.recorder?.event('shell.resize', {
          channel: message.channel,
          cols: message.cols,
          rows: message.rows,
        });
        return;
      case 'exec': {
        // Kept, stored and shown with its secrets masked (protocol/mask-command.ts); masked before it
        // is cut, so a cut cannot part a secret from the option that marks it.
        const command = maskCommand(message.command);
        side.commands.set(message.channel, command);
        this.record(session, side, 'session.exec', {
          channel: message.channel,
          command: command.slice(0, MAX_AUDITED_COMMAND_CHARS),
          ...(command.length > MAX_AUDITED_COMMAND_CHARS ? { commandLength: command.length } : {}),
          ...(message.cwd !== undefined ? { cwd: message.cwd } : {}),
        });
        return;
      }
      case 'file-read':
        this.record(session, side, 'file.read', { path: message.path, offset: message.offset });
        return;
      case 'file-write':
        this.record(session, side, 'file.write', {
          path: message.path,
          size: message.size,
          overwrite: message.overwrite,
        });
        return;
      case 'file-op':
        this.record(session, side, 'file.op', {
          op: message.op,
          path: message.path,
          ...(message.to !== undefined ? { to: message.to } : {}),
        });
        return;
      default:
    }
  }

  /** A command's end is audited with its exit code, as the agent reported it. */
  private auditCommandEnd(session: LiveSession, side: OperatorSide, message: AgentChannelMessage): void {
    if (!side.commands.has(message.channel)) return;
    if (message.type !== 'shell-exit' && message.type !== 'channel-error' && message.type !== 'channel-close')
      return;
    side.commands.delete(message.channel);
    if (message.type !== 'shell-exit') return;
    this.record(session, side, 'session.exec-exit', {
      channel: message.channel,
      exitCode: message.exitCode,
      signal: message.signal,
      ...(message.timedOut ? { timedOut: true } : {}),
      ...(message.truncated ? { truncated: true } : {}),
      ...(message.durationMs !== undefined ? { durationMs: message.durationMs } : {}),
    });
  }

  private record(
    session: LiveSession,
    side: OperatorSide,
    action: string,
    details: AuditEntry['details'],
    recordedOnly?: Record<string, unknown>,
  ): void {
    session.recorder?.event(action, { operatorId: side.operatorId, ...details, ...recordedOnly });
    this.options.audit
      .record({
        ...side.actor,
        action,
        sessionId: session.id,
        address: side.peer.address,
        details,
      })
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, sessionId: session.id, action }, 'could not audit'),
      );
  }
}

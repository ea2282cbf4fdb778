import { type ChatAuthor, encodeControl, type MessageOf } from '../../protocol/index.ts';
import type { AuditEntry, AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../logger.ts';
import { capabilityRefusal } from './channel-router.ts';
import { type LiveSession, type OperatorSide, sendBounded } from './live-session.ts';

/** Longest author name on the wire, in characters (the chat schema's bound). */
const MAX_AUTHOR_CHARS = 200;

/**
 * Chat between the end user and the operators. The relay stamps who wrote each message and when, so
 * neither side can write in another's name, keeps recent history for operators who join later, and
 * echoes every message to every operator (the sender included: the echo confirms delivery).
 */
export class ChatRouter {
  constructor(private readonly options: { audit: AuditLog; logger: Logger }) {}

  /** An operator wrote: passed on only while the end user allows chat. */
  fromOperator(session: LiveSession, side: OperatorSide, message: MessageOf<'chat'>): void {
    session.lastActivityAt = Date.now();
    if (!session.allows('chat')) {
      sendBounded(
        side.peer,
        encodeControl({ type: 'error', code: 'CAPABILITY_NOT_ALLOWED', message: capabilityRefusal('chat') }),
      );
      return;
    }
    const from: ChatAuthor = {
      kind: 'operator',
      id: side.operatorId,
      name: side.name.slice(0, MAX_AUTHOR_CHARS),
    };
    const stamped = session.chat.add(message, from);
    session.toAgent(stamped);
    session.toOperators(stamped);
    session.recorder?.json('chat', stamped);
    this.record(session, { ...side.actor, address: side.peer.address }, message.text.length);
  }

  /** The end user wrote, on the agent's terminal. */
  fromAgent(session: LiveSession, message: MessageOf<'chat'>): void {
    const info = session.agent.info;
    const name = (info.user ?? info.hostname ?? info.name).slice(0, MAX_AUTHOR_CHARS);
    const stamped = session.chat.add(message, { kind: 'user', name });
    session.toOperators(stamped);
    session.recorder?.json('chat', stamped);
    this.record(
      session,
      { actorType: 'agent', actorId: session.id, address: session.agent.peer.address },
      message.text.length,
    );
  }

  /** Sends the kept history to an operator connection that just joined. */
  replay(session: LiveSession, side: OperatorSide): void {
    for (const message of session.chat.list()) sendBounded(side.peer, encodeControl(message));
  }

  private record(
    session: LiveSession,
    actor: Pick<AuditEntry, 'actorType' | 'actorId' | 'address'>,
    length: number,
  ): void {
    // The length only: what people write to each other is not the audit log's to keep.
    this.options.audit
      .record({ ...actor, action: 'session.chat', sessionId: session.id, details: { length } })
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, sessionId: session.id }, 'could not audit a chat message'),
      );
  }
}

import { encodeControl, type MessageOf } from '../../protocol/index.ts';
import type { AuditEntry, AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../logger.ts';
import { capabilityRefusal } from './channel-router.ts';
import { type LiveSession, type OperatorSide, sendBounded } from './live-session.ts';

/**
 * Clipboard text between the operators and the end user's device, only while the user allows
 * `clipboard` and the policy does not forbid it. Each copy is audited with its length and direction,
 * never its text, and is not recorded: a clipboard often holds what nobody should keep (passwords).
 */
export class ClipboardRouter {
  constructor(private readonly options: { audit: AuditLog; logger: Logger }) {}

  /** An operator's copy, for the device's clipboard; refused with CAPABILITY_NOT_ALLOWED when not allowed. */
  fromOperator(session: LiveSession, side: OperatorSide, message: MessageOf<'clipboard'>): void {
    session.lastActivityAt = Date.now();
    if (!session.allows('clipboard')) {
      sendBounded(
        side.peer,
        encodeControl({
          type: 'error',
          code: 'CAPABILITY_NOT_ALLOWED',
          message: capabilityRefusal('clipboard'),
        }),
      );
      return;
    }
    session.toAgent({ type: 'clipboard', text: message.text });
    this.record(session, { ...side.actor, address: side.peer.address }, 'to-device', message.text.length);
  }

  /** The device's clipboard changed: every operator gets it, while allowed. */
  fromAgent(session: LiveSession, message: MessageOf<'clipboard'>): void {
    if (!session.allows('clipboard')) return;
    session.toOperators(message);
    this.record(
      session,
      { actorType: 'agent', actorId: session.id, address: session.agent.peer.address },
      'from-device',
      message.tooLong ?? message.text.length,
    );
  }

  private record(
    session: LiveSession,
    actor: Pick<AuditEntry, 'actorType' | 'actorId' | 'address'>,
    direction: 'to-device' | 'from-device',
    length: number,
  ): void {
    this.options.audit
      .record({
        ...actor,
        action: 'session.clipboard',
        sessionId: session.id,
        details: { direction, length },
      })
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, sessionId: session.id }, 'could not audit a clipboard copy'),
      );
  }
}

import { CAPABILITIES, encodeControl, type MessageOf } from '../../protocol/index.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../logger.ts';
import { type LiveSession, type OperatorSide, sendBounded } from './live-session.ts';

/** At most one permission request per operator connection per this interval, in milliseconds. */
export const PERMISSION_REQUEST_INTERVAL_MS = 10_000;
/** Longest operator name on the wire, in characters (the schema's bound). */
const MAX_NAME_CHARS = 200;

/**
 * Operators asking the end user for more during a session. The relay stamps who asks (so nobody asks
 * in another's name), passes a request on only after consent and only when it asks for something not
 * allowed yet that the policy permits, and at most once per connection per interval so the user's
 * terminal cannot be flooded with questions.
 */
export class PermissionRequests {
  /** Requests dropped because the same connection asked again too soon. */
  dropped = 0;
  private readonly lastAt = new WeakMap<OperatorSide, number>();

  constructor(private readonly options: { audit: AuditLog; logger: Logger }) {}

  fromOperator(session: LiveSession, side: OperatorSide, message: MessageOf<'permission-request'>): void {
    if (session.consent !== 'accepted') {
      this.dropped++;
      return;
    }
    const wanted = CAPABILITIES.filter(
      (c) => message.requested[c] && !session.permissions[c] && session.policy?.modes[c] !== false,
    );
    if (wanted.length === 0) {
      // Nothing to ask: the answer is what the user allows now.
      sendBounded(side.peer, encodeControl({ type: 'permissions', permissions: session.permissions }));
      return;
    }
    const now = Date.now();
    if (now - (this.lastAt.get(side) ?? Number.NEGATIVE_INFINITY) < PERMISSION_REQUEST_INTERVAL_MS) {
      this.dropped++;
      return;
    }
    this.lastAt.set(side, now);
    session.lastActivityAt = now;
    session.toAgent({
      type: 'permission-request',
      requested: message.requested,
      operator: { id: side.operatorId, name: side.name.slice(0, MAX_NAME_CHARS) },
    });
    session.recorder?.event('session.permission-request', { operatorId: side.operatorId, requested: wanted });
    this.options.audit
      .record({
        ...side.actor,
        action: 'session.permission-request',
        sessionId: session.id,
        address: side.peer.address,
        details: { requested: message.requested },
      })
      .catch((error: unknown) =>
        this.options.logger.error(
          { err: error, sessionId: session.id },
          'could not audit a permission request',
        ),
      );
  }
}

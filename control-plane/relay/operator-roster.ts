import { CloseCode, encodeControl, type Participant } from '../../protocol/index.ts';
import type { AuditEntry, AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../logger.ts';
import type { ChatRouter } from './chat-router.ts';
import { type LiveSession, type OperatorSide, sendBounded } from './live-session.ts';

/** How control moved from one operator connection to another, as the audit log says it. */
export type ControlMove = 'handed-over' | 'taken' | 'granted' | 'holder-left';

/** Longest operator name on the wire, in characters (the schema's bound). */
const MAX_NAME_CHARS = 200;

/** What the end user sees on the operator's screen when they remove them. */
export const REMOVED_MESSAGE = 'The user removed you from the session. The session goes on for the others.';

/**
 * Several operators in one session: who the end user let in, and the one connection in control.
 *
 * An operator connection that joins a session already under way waits until the end user lets it in
 * (agents that say `operators` in their features ask; older ones asked once for everyone). The first
 * connection let in that shows the screen holds control; another asks for it, and the holder grants
 * or declines, unless the asker is an administrator, who takes it. Input from anyone else is dropped
 * and counted. Every change is told to the agent and the operators as a `participants` message, and
 * every move of control is audited with who had it and who has it now.
 */
export class OperatorRoster {
  /** Input events dropped because their connection did not hold control. */
  droppedInput = 0;

  constructor(private readonly options: { chat: ChatRouter; audit: AuditLog; logger: Logger }) {}

  /**
   * The end user let `side` in (their consent, or their answer to its joining): it is brought up to
   * date with the session (consent unless `consentSent`, video, chat history) and may get control.
   */
  admit(session: LiveSession, side: OperatorSide, consentSent = false): void {
    side.admitted = true;
    if (!consentSent) {
      sendBounded(
        side.peer,
        encodeControl({ type: 'consent', accepted: true, permissions: session.permissions }),
      );
    }
    if (side.video) {
      if (session.monitors) sendBounded(side.peer, encodeControl(session.monitors));
      if (session.videoConfig) sendBounded(side.peer, encodeControl(session.videoConfig));
      if (session.videoAdaptation) sendBounded(side.peer, encodeControl(session.videoAdaptation));
      if (session.allows('view')) {
        if (session.cursorShape) sendBounded(side.peer, encodeControl(session.cursorShape));
        if (session.cursorPosition) sendBounded(side.peer, encodeControl(session.cursorPosition));
      }
      session.requestKeyframe();
    }
    this.options.chat.replay(session, side);
    if (session.controlSlot === undefined && side.video) session.controlSlot = side.slot;
    this.announce(session);
  }

  /** The end user turned an additional operator connection away: it is told and closed. */
  refuse(session: LiveSession, side: OperatorSide): void {
    sendBounded(
      side.peer,
      encodeControl({ type: 'consent', accepted: false, permissions: session.permissions }),
    );
    side.peer.close(CloseCode.normal, 'join refused');
    this.record(session, { actorType: 'agent', actorId: session.id }, 'session.join-refused', {
      operatorId: side.operatorId,
    });
  }

  /** The end user removed an operator connection: it is told and closed; the session goes on. */
  remove(session: LiveSession, side: OperatorSide): void {
    sendBounded(
      side.peer,
      encodeControl({ type: 'error', code: 'OPERATOR_REMOVED', message: REMOVED_MESSAGE }),
    );
    side.peer.close(CloseCode.normal, 'removed by the user');
    this.record(session, { actorType: 'agent', actorId: session.id }, 'session.operator-removed', {
      operatorId: side.operatorId,
    });
  }

  /** An operator connection left (or was removed): control passes to the oldest one still let in. */
  left(session: LiveSession, side: OperatorSide): void {
    session.controlRequests.delete(side.slot);
    if (session.ended || !side.admitted) return;
    if (session.controlSlot === side.slot) {
      const next = session.admitted().find((operator) => operator.video);
      session.controlSlot = next?.slot;
      // Control going to nobody, because nobody is left to hold it, is no move worth a record.
      if (next) this.moved(session, side, next, 'holder-left', { actorType: 'system', actorId: null });
    }
    this.announce(session);
  }

  /** Whether input from `side` may reach the device; counts it when not. */
  mayInput(session: LiveSession, side: OperatorSide): boolean {
    if (session.controlSlot === side.slot) return true;
    this.droppedInput++;
    return false;
  }

  /**
   * An operator connection asks for control: granted when nobody holds it, taken when the asker is
   * an administrator, otherwise put to the holder. Returns false when the request was out of place.
   */
  request(session: LiveSession, side: OperatorSide): boolean {
    if (!side.video || session.controlSlot === side.slot) return false;
    const holder =
      session.controlSlot === undefined ? undefined : session.operatorOfSlot(session.controlSlot);
    if (!holder || side.mayTakeControl) {
      this.give(session, holder, side, holder ? 'taken' : 'granted', side.actor);
      return true;
    }
    session.controlRequests.add(side.slot);
    sendBounded(
      holder.peer,
      encodeControl({
        type: 'control-request',
        operator: { id: side.operatorId, name: side.name.slice(0, MAX_NAME_CHARS) },
        slot: side.slot,
      }),
    );
    return true;
  }

  /** The holder hands control to `slot` (answering its request, or unasked). False when out of place. */
  grant(session: LiveSession, side: OperatorSide, slot: number): boolean {
    const to = session.operatorOfSlot(slot);
    if (session.controlSlot !== side.slot || !to || to === side || !to.admitted || !to.video) return false;
    this.give(session, side, to, 'handed-over', side.actor);
    return true;
  }

  /** The holder declines the request of `slot`: the asker is told. False when out of place. */
  decline(session: LiveSession, side: OperatorSide, slot: number): boolean {
    if (session.controlSlot !== side.slot || !session.controlRequests.delete(slot)) return false;
    const asker = session.operatorOfSlot(slot);
    if (asker) sendBounded(asker.peer, encodeControl({ type: 'control-decline', slot }));
    return true;
  }

  /** Tells the agent (when it lists operators) and every operator let in who is there and in control. */
  announce(session: LiveSession): void {
    const operators: Participant[] = session.admitted().map((operator) => ({
      slot: operator.slot,
      id: operator.operatorId,
      name: operator.name.slice(0, MAX_NAME_CHARS),
      colour: session.colourOf(operator.operatorId),
    }));
    const message = { type: 'participants', operators, controlSlot: session.controlSlot ?? null } as const;
    session.toOperators(message);
    if (session.asksForEachOperator) session.toAgent(message);
  }

  private give(
    session: LiveSession,
    from: OperatorSide | undefined,
    to: OperatorSide,
    how: ControlMove,
    actor: Pick<AuditEntry, 'actorType' | 'actorId'>,
  ): void {
    session.controlSlot = to.slot;
    session.controlRequests.clear();
    this.moved(session, from, to, how, actor);
    this.announce(session);
  }

  private moved(
    session: LiveSession,
    from: OperatorSide | undefined,
    to: OperatorSide | undefined,
    how: ControlMove,
    actor: Pick<AuditEntry, 'actorType' | 'actorId'>,
  ): void {
    session.recorder?.event('session.control', {
      from: from?.operatorId ?? null,
      to: to?.operatorId ?? null,
      how,
    });
    this.record(session, actor, 'session.control', {
      from: from?.operatorId ?? null,
      to: to?.operatorId ?? null,
      how,
    });
  }

  private record(
    session: LiveSession,
    actor: Pick<AuditEntry, 'actorType' | 'actorId'>,
    action: string,
    details: Record<string, unknown>,
  ): void {
    this.options.audit
      .record({ ...actor, action, sessionId: session.id, details })
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, sessionId: session.id, action }, 'could not audit'),
      );
  }
}

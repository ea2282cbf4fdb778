import {
  CloseCode,
  type EndReason,
  encodeControl,
  type MessageOf,
  NO_PERMISSIONS,
  type PeerInfo,
} from '../../protocol/index.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../logger.ts';
import type { Recordings } from '../recordings/recordings.ts';
import type { SessionRow, SessionStore } from '../sessions/session-store.ts';
import type { AgentSide, OperatorSide } from './live-session.ts';
import { LiveSession } from './live-session.ts';
import type { RelayCounters } from './relay-counters.ts';
import type { RelayPeer } from './relay-peer.ts';
import { ReturningAgents } from './returning-agents.ts';
import { spreadDelay, TaskQueue } from './spread.ts';

/** How long a session waits for a disconnected agent to come back, in milliseconds. */
export const AGENT_GRACE_MS = 30_000;
/** Most session ends written to the database at once; the others wait their turn. */
export const END_WRITES_AT_ONCE = 4;
/** How often idle and maximum-length limits are checked, in milliseconds. */
export const LIMIT_CHECK_INTERVAL_MS = 5_000;
/** What the end user and operators are told when a mandatory recording cannot be made. */
export const RECORDING_FAILED_MESSAGE =
  'This session must be recorded, and the recording could not be written on the server. Try again later or tell your administrator.';

/** What every welcome says besides its session: the protocol and how often to send a heartbeat. */
export interface WelcomeBase {
  type: 'welcome';
  protocol: number;
  heartbeatSeconds: number;
}

export interface SessionLifecycleOptions {
  store: SessionStore;
  audit: AuditLog;
  logger: Logger;
  /** This node's name, recorded on the sessions whose agents it holds. */
  node: string;
  /** How long a session waits for its agent to reconnect, in milliseconds (default AGENT_GRACE_MS). */
  agentGraceMs?: number | undefined;
  /** Where sessions whose policy makes recording mandatory are recorded. */
  recordings?: Recordings | undefined;
  counters: RelayCounters;
  welcome: WelcomeBase;
}

/**
 * The life of the sessions this node holds: an agent's arrival, its loss and grace period, its
 * return (also after a restart of the control plane), consent, the policy's time limits, an
 * operator's departure, and the one way a session ends (sockets told and closed, the row and the
 * audit written a few at a time, the recording finished).
 */
export class SessionLifecycle {
  private readonly sessions = new Map<string, LiveSession>();
  /** Sessions left open by a previous run of this node, until their agents come back. */
  private readonly returning: ReturningAgents;
  private readonly limitTimer: ReturnType<typeof setInterval>;
  /** Session ends' database writes, a few at a time: a site losing its link must not stall the server. */
  private readonly endWrites = new TaskQueue(END_WRITES_AT_ONCE);
  private readonly graceMs: number;

  constructor(private readonly options: SessionLifecycleOptions) {
    this.graceMs = options.agentGraceMs ?? AGENT_GRACE_MS;
    this.returning = new ReturningAgents((sessionId) => this.endAbsent(sessionId, 'server-restart'));
    this.limitTimer = setInterval(() => this.enforceLimits(), LIMIT_CHECK_INTERVAL_MS);
    this.limitTimer.unref();
  }

  /** The live session on this node, if any. */
  get(sessionId: string): LiveSession | undefined {
    return this.sessions.get(sessionId);
  }

  /** Every live session on this node. */
  live(): IterableIterator<LiveSession> {
    return this.sessions.values();
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Whether this node holds the session but its agent is not connected: it dropped and the session
   * waits out its grace period, or it has not come back since a restart of the control plane.
   */
  agentAway(sessionId: string): boolean {
    const session = this.sessions.get(sessionId);
    if (session) return session.agentGraceTimer !== undefined;
    return this.returning.has(sessionId);
  }

  /** Ends sessions past their policy's idle timeout or maximum length. */
  enforceLimits(now = Date.now()): void {
    for (const session of this.sessions.values()) {
      const policy = session.policy;
      if (!policy || session.activatedAt === undefined) continue;
      if (policy.maxSessionMinutes > 0 && now - session.activatedAt > policy.maxSessionMinutes * 60_000) {
        void this.endSession(session, 'max-duration');
      } else if (
        policy.idleTimeoutMinutes > 0 &&
        now - session.lastActivityAt > policy.idleTimeoutMinutes * 60_000 &&
        !session.runsCommands()
      ) {
        void this.endSession(session, 'idle-timeout');
      }
    }
  }

  /**
   * An agent with a valid token says hello for a session that is not live here. Resolves once a
   * deadline that has just passed has ended the session, so the caller reads the row as ended.
   */
  agentReturning(sessionId: string): Promise<void> {
    return this.returning.arrived(sessionId);
  }

  /**
   * The agent of a session not live on this node arrived: the session goes live (consent kept when it
   * comes back after a restart), is recorded when its policy says so, and the agent is welcomed.
   * Returns undefined when the mandatory recording could not be made (the session has ended).
   */
  async agentArrived(row: SessionRow, peer: RelayPeer, info: PeerInfo): Promise<LiveSession | undefined> {
    const sessionId = row.id;
    const agent: AgentSide = { peer, info };
    const session = new LiveSession(sessionId, agent, row.policy ?? undefined);
    session.access = row.access ?? undefined;
    // Back after a restart of the control plane: the end user already answered, and is not asked again.
    if (row.status === 'active') session.resumeConsented(row.permissions ?? NO_PERMISSIONS, row.activatedAt);
    this.sessions.set(sessionId, session);
    await this.options.store.markAgentConnected(sessionId, this.options.node, info);
    if (session.policy?.recordingMandatory && !(await this.openRecording(session))) return undefined;
    if (row.initiator === 'agent' && !row.codeRedeemedAt && row.codeExpiresAt) {
      const remaining = row.codeExpiresAt.getTime() - Date.now();
      session.codeTimer = setTimeout(() => void this.expireCode(session), Math.max(0, remaining));
    }
    peer.send(encodeControl({ ...this.options.welcome, sessionId }));
    this.options.logger.info(
      { event: 'connect', role: 'agent', sessionId, address: peer.address, consent: session.consent },
      'agent attached',
    );
    if (row.agentConnectedAt) {
      // Not awaited: the agent's next frames must find it attached.
      this.options.audit
        .record({
          actorType: 'agent',
          actorId: sessionId,
          action: 'session.resume',
          sessionId,
          address: peer.address,
          details: { consent: session.consent },
        })
        .catch((error: unknown) =>
          this.options.logger.error({ err: error, sessionId }, 'could not audit a resumption'),
        );
    }
    return session;
  }

  /** The agent came back (or a half-open old socket is replaced): the session carries on. */
  agentResumed(session: LiveSession, peer: RelayPeer, info: PeerInfo): LiveSession {
    clearTimeout(session.agentGraceTimer);
    session.agentGraceTimer = undefined;
    const old = session.agent.peer;
    session.agent = { peer, info };
    if (old !== peer) old.close(CloseCode.normal, 'replaced by a new connection');
    for (const operator of session.operators.values()) operator.needsKeyframe = true;
    session.recorder?.keyframeNeeded();
    peer.send(encodeControl({ ...this.options.welcome, sessionId: session.id }));
    session.toOperators({ type: 'agent-status', state: 'connected' });
    this.options.logger.info(
      { event: 'connect', role: 'agent', sessionId: session.id, address: peer.address },
      'agent resumed',
    );
    return session;
  }

  /**
   * The agent's connection dropped: operators are told, and the session waits for the agent to come
   * back with its token (consent and permissions kept) until the grace period ends it.
   */
  agentGone(session: LiveSession, peer: RelayPeer): void {
    if (session.ended || session.agent.peer !== peer) return; // superseded by a newer connection
    if (this.graceMs <= 0) {
      void this.endSession(session, 'agent-disconnected');
      return;
    }
    session.toOperators({ type: 'agent-status', state: 'reconnecting' });
    clearTimeout(session.agentGraceTimer);
    session.agentGraceTimer = setTimeout(
      () => void this.endSession(session, 'agent-disconnected'),
      spreadDelay(this.graceMs),
    );
    this.options.logger.info(
      { event: 'disconnect', role: 'agent', sessionId: session.id, graceMs: this.graceMs },
      'agent lost',
    );
  }

  /** The end user answered: an acceptance activates the session, a refusal ends it. */
  async consent(session: LiveSession, message: MessageOf<'consent'>): Promise<void> {
    if (message.accepted) {
      // Before anything awaits: the agent streams right after its consent, and operators act on it
      // at once, so the frames that follow must already find the session consented.
      session.consent = 'accepted';
      session.permissions = message.permissions;
      // The policy's maximum length and idle timeout count from here, not from the agent's arrival.
      if (session.activatedAt === undefined) {
        session.activatedAt = Date.now();
        session.lastActivityAt = session.activatedAt;
      }
      const recorder = session.recorder;
      if (recorder && !recorder.recording) {
        recorder.begin();
        if (session.videoConfig) recorder.json('videoConfig', session.videoConfig);
      }
      recorder?.event('session.consent', { permissions: message.permissions });
    }
    session.toOperators(message);
    await this.options.audit.record({
      actorType: 'agent',
      actorId: session.id,
      action: message.accepted ? 'session.consent' : 'session.consent-refused',
      sessionId: session.id,
      address: session.agent.peer.address,
      details: { permissions: message.permissions },
    });
    if (!message.accepted) {
      await this.endSession(session, 'consent-refused');
      return;
    }
    // The permissions as they are now: a change may have arrived while the consent was audited.
    await this.options.store.markActive(session.id, session.permissions);
    session.requestKeyframe();
  }

  /** An operator connection left: the agent hears it, the recording and the log note it. */
  operatorLeft(session: LiveSession, side: OperatorSide): void {
    if (!session.operators.delete(side.connectionId)) return;
    session.recorder?.event('session.leave', { operatorId: side.operatorId, slot: side.slot });
    if (!session.ended)
      session.toAgent({ type: 'operator-left', operatorId: side.operatorId, slot: side.slot });
    this.options.logger.info(
      {
        event: 'close',
        role: 'operator',
        sessionId: session.id,
        operatorId: side.operatorId,
        slot: side.slot,
        dropped: side.droppedFrames,
      },
      'operator left',
    );
  }

  /** Closes the operator connections `which` picks, in every live session (logout, disable). */
  closeOperators(which: (side: OperatorSide) => boolean, reason: string): void {
    for (const session of this.sessions.values()) {
      for (const side of session.operators.values()) {
        if (which(side)) side.peer.close(CloseCode.policy, reason);
      }
    }
  }

  /** Called when a code is redeemed, so the unused-code timer does not end the session. */
  codeRedeemed(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (session?.codeTimer) clearTimeout(session.codeTimer);
  }

  /** Moves the unused-code timer when an operator extends the code. */
  codeExtended(sessionId: string, expiresAt: Date): void {
    const session = this.sessions.get(sessionId);
    if (!session?.codeTimer) return;
    clearTimeout(session.codeTimer);
    session.codeTimer = setTimeout(
      () => void this.expireCode(session),
      Math.max(0, expiresAt.getTime() - Date.now()),
    );
  }

  /**
   * Takes over the sessions a previous run of this node left open (it was stopped or crashed): each
   * waits the agent grace period for its agent to come back with its token and carry on, consent
   * and permissions kept, and is ended as `server-restart` if it does not. A session whose policy
   * makes recording mandatory ends at once: its recording cannot be continued.
   */
  async resumeLeftOpen(rows: readonly SessionRow[]): Promise<{ waiting: number; ended: number }> {
    let ended = 0;
    for (const row of rows) {
      if (this.graceMs <= 0 || row.policy?.recordingMandatory) {
        await this.endAbsent(row.id, 'server-restart');
        ended++;
      } else {
        this.returning.wait(row.id, this.graceMs);
      }
    }
    return { waiting: rows.length - ended, ended };
  }

  /**
   * Stops for a restart without ending the sessions: every socket is closed as a service restart,
   * and agents and operators that come back within the grace period carry on. A session being
   * recorded ends, so that its recording is finished rather than cut off.
   */
  async shutdown(): Promise<void> {
    clearInterval(this.limitTimer);
    this.returning.clear();
    await Promise.all(
      [...this.sessions.values()].map((session) =>
        session.recorder ? this.endSession(session, 'server-shutdown') : this.suspend(session),
      ),
    );
  }

  /**
   * Ends a live session, once: both sides get `end` and are closed, then the row is marked ended and
   * (unless `audit` is false, when the caller audits it) a `session.end` event is written.
   */
  async endSession(
    session: LiveSession,
    reason: EndReason,
    actorId?: string,
    audit = true,
    message?: string,
  ): Promise<void> {
    if (session.ended) return;
    session.recorder?.event('session.end', { reason });
    session.ended = true;
    if (session.codeTimer) clearTimeout(session.codeTimer);
    clearTimeout(session.agentGraceTimer);
    this.sessions.delete(session.id);
    this.options.counters.droppedVideoFramesOfEnded += session.droppedFrames;
    const end = encodeControl({ type: 'end', reason, ...(message ? { message } : {}) });
    for (const side of [session.agent.peer, ...[...session.operators.values()].map((o) => o.peer)]) {
      side.send(end);
      side.close(CloseCode.normal, reason);
    }
    session.operators.clear();
    this.options.logger.info({ event: 'close', sessionId: session.id, reason }, 'session ended');
    try {
      await this.endWrites.run(async () => {
        if (!(await this.options.store.markEnded(session.id, reason))) return;
        if (audit) {
          await this.options.audit.record({
            actorType: actorId ? 'operator' : 'system',
            actorId: actorId ?? null,
            action: 'session.end',
            sessionId: session.id,
            details: { reason, ...(message ? { message } : {}) },
          });
        }
        // JumpCloud's kind for the end of a background-access session (README, "Background access").
        if (session.access === 'background') {
          await this.options.audit.record({
            actorType: actorId ? 'operator' : 'system',
            actorId: actorId ?? null,
            action: 'remote_session_end',
            sessionId: session.id,
            details: { reason, access: session.access },
          });
        }
      });
    } catch (error) {
      this.options.logger.error(
        { err: error, sessionId: session.id },
        'could not record the end of a session',
      );
    }
    if (session.recorder && this.options.recordings) {
      await this.options.recordings
        .finish(session.id, session.recorder)
        .catch((error: unknown) =>
          this.options.logger.error({ err: error, sessionId: session.id }, 'could not finish a recording'),
        );
    }
  }

  private async expireCode(session: LiveSession): Promise<void> {
    const row = await this.options.store.get(session.id);
    if (row && !row.codeRedeemedAt && session.operators.size === 0)
      await this.endSession(session, 'code-expired');
  }

  /**
   * Ends a session whose agent is not connected to this node (it did not come back after a restart),
   * once: the database row and a `session.end` audit event.
   */
  private async endAbsent(sessionId: string, reason: EndReason): Promise<void> {
    try {
      await this.endWrites.run(async () => {
        if (!(await this.options.store.markEnded(sessionId, reason))) return;
        this.options.logger.info({ event: 'close', sessionId, reason }, 'session ended');
        await this.options.audit.record({
          actorType: 'system',
          actorId: null,
          action: 'session.end',
          sessionId,
          details: { reason },
        });
      });
    } catch (error) {
      this.options.logger.error({ err: error, sessionId }, 'could not record the end of a session');
    }
  }

  /** Lets a session go without ending it (shutdown): its sockets close, its row stays open. */
  private suspend(session: LiveSession): void {
    session.ended = true;
    if (session.codeTimer) clearTimeout(session.codeTimer);
    clearTimeout(session.agentGraceTimer);
    this.sessions.delete(session.id);
    for (const side of [session.agent.peer, ...[...session.operators.values()].map((o) => o.peer)]) {
      side.close(CloseCode.serviceRestart, 'server restarting');
    }
    session.operators.clear();
    this.options.logger.info({ event: 'close', sessionId: session.id }, 'session suspended for a restart');
  }

  /**
   * Opens the recording of a session whose policy makes it mandatory. When it cannot be made (or
   * fails later), the session ends: it must not go on unrecorded. Returns false when it ended.
   */
  private async openRecording(session: LiveSession): Promise<boolean> {
    const fail = (error: unknown) => {
      this.options.logger.error({ err: error, sessionId: session.id }, 'session recording failed');
      void this.endSession(session, 'error', undefined, true, RECORDING_FAILED_MESSAGE);
    };
    if (!this.options.recordings) {
      fail(new Error('no recordings folder is configured'));
      return false;
    }
    try {
      const recorder = await this.options.recordings.open(session.id, fail);
      if (session.ended) {
        // Ended while its file was being created: nothing was recorded, the empty file goes.
        await this.options.recordings.finish(session.id, recorder);
        return false;
      }
      session.recorder = recorder;
      return true;
    } catch (error) {
      fail(error);
      return false;
    }
  }
}

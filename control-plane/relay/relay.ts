import { CloseCode, type EndReason, type PeerInfo, PROTOCOL_VERSION } from '../../protocol/index.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../logger.ts';
import type { Recordings } from '../recordings/recordings.ts';
import type { SessionRow, SessionStore } from '../sessions/session-store.ts';
import type { TokenService } from '../tokens/tokens.ts';
import { Admission, HELLO_TIMEOUT_MS, type PeerState, refuse } from './admission.ts';
import { ChannelRouter } from './channel-router.ts';
import type { StampedChat } from './chat-history.ts';
import { ChatRouter } from './chat-router.ts';
import { ClipboardRouter } from './clipboard-router.ts';
import { Dispatch } from './dispatch.ts';
import { PING_SECONDS } from './liveness.ts';
import { MessageBudget } from './message-budget.ts';
import { type JoinDeps, joinOperator, type OperatorIdentity } from './operator-join.ts';
import { OperatorRoster } from './operator-roster.ts';
import { PermissionRequests } from './permission-requests.ts';
import { RelayCounters, type RelayStats } from './relay-counters.ts';
import type { RelayConnection, RelayPeer } from './relay-peer.ts';
import { SessionLifecycle, type WelcomeBase } from './session-lifecycle.ts';

export { HELLO_TIMEOUT_MS } from './admission.ts';
export type { RelayStats } from './relay-counters.ts';
export {
  AGENT_GRACE_MS,
  END_WRITES_AT_ONCE,
  LIMIT_CHECK_INTERVAL_MS,
  RECORDING_FAILED_MESSAGE,
} from './session-lifecycle.ts';

export interface RelayOptions {
  tokens: TokenService;
  store: SessionStore;
  audit: AuditLog;
  logger: Logger;
  /** This node's name, recorded on the sessions whose agents it holds. */
  node: string;
  /**
   * Whether an operator (and, for a console login, that login) may still open a socket: a join token
   * outlives a disable or a logout by up to a minute.
   */
  operatorMayConnect(operatorId: string, loginSessionId: string | undefined): Promise<boolean>;
  helloTimeoutMs?: number;
  /** How often agents and consoles are told to send a heartbeat, in milliseconds (default PING_SECONDS). */
  pingMs?: number;
  /** How long a session waits for its agent to reconnect, in milliseconds (default AGENT_GRACE_MS). */
  agentGraceMs?: number;
  /** Where sessions whose policy makes recording mandatory are recorded. */
  recordings?: Recordings;
  /** What each connection may send of the messages that make the server write (default WRITE_BURST, WRITES_PER_SECOND). */
  messageBudget?: { burst: number; perSecond: number };
}

/**
 * The WebSocket relay: pairs an agent with its operators by session, forwards control messages and
 * video, and ends both sides cleanly when either leaves. It grants nothing on its own: the agent
 * decides what the end user allowed, and the relay only passes operators' input on after that.
 *
 * It holds each socket's state and budget and hands the work to its parts: {@link Admission} (who
 * may join), {@link SessionLifecycle} (arrival, grace, consent, end, resumption after a restart) and
 * {@link Dispatch} (routing frames between the agent and its operators).
 */
export class Relay {
  private readonly counters = new RelayCounters();
  private readonly helloTimeoutMs: number;
  private readonly welcomeBase: WelcomeBase;
  private readonly permissionRequests: PermissionRequests;
  private readonly roster: OperatorRoster;
  private readonly lifecycle: SessionLifecycle;
  private readonly admission: Admission;
  private readonly dispatch: Dispatch;
  private readonly joinDeps: JoinDeps;

  constructor(private readonly options: RelayOptions) {
    const { audit, logger, store } = options;
    const counters = this.counters;
    this.helloTimeoutMs = options.helloTimeoutMs ?? HELLO_TIMEOUT_MS;
    this.welcomeBase = {
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      heartbeatSeconds: (options.pingMs ?? PING_SECONDS * 1000) / 1000,
    };
    const channels = new ChannelRouter({
      audit,
      logger,
      malformed: () => counters.malformedFrames++,
      refused: () => counters.refusedFrames++,
      unrouted: () => counters.unroutedChannelFrames++,
    });
    const chat = new ChatRouter({ audit, logger });
    this.permissionRequests = new PermissionRequests({ audit, logger });
    this.roster = new OperatorRoster({ chat, audit, logger });
    this.joinDeps = {
      roster: this.roster,
      audit,
      logger,
      heartbeatSeconds: this.welcomeBase.heartbeatSeconds,
    };
    this.lifecycle = new SessionLifecycle({
      store,
      audit,
      logger,
      node: options.node,
      agentGraceMs: options.agentGraceMs,
      recordings: options.recordings,
      counters,
      welcome: this.welcomeBase,
      roster: this.roster,
    });
    const lifecycle = this.lifecycle;
    this.admission = new Admission({
      tokens: options.tokens,
      store,
      logger,
      operatorMayConnect: options.operatorMayConnect,
      lifecycle,
      counters,
      joinDeps: this.joinDeps,
    });
    this.dispatch = new Dispatch({
      store,
      audit,
      logger,
      lifecycle,
      counters,
      channels,
      chat,
      clipboard: new ClipboardRouter({ audit, logger }),
      permissionRequests: this.permissionRequests,
      roster: this.roster,
    });
  }

  /** Ends sessions past their policy's idle timeout or maximum length. */
  enforceLimits(now = Date.now()): void {
    this.lifecycle.enforceLimits(now);
  }

  /** Accepts a new socket; the first frame must be a `hello` and must arrive in time. */
  accept(peer: RelayPeer): RelayConnection {
    let state: PeerState = { role: 'pending' };
    let helloSeen = false;
    const budget = new MessageBudget(this.options.messageBudget);
    /** Set once the socket is being closed for flooding: what it still sends is ignored. */
    let flooded = false;
    /** Whether a message that makes the server write may go on; a persistent flood closes the socket. */
    const mayWrite = (): boolean => {
      const verdict = budget.take();
      if (verdict === 'pass') return true;
      this.counters.overBudgetMessages++;
      if (verdict === 'close' && !flooded) {
        flooded = true;
        this.counters.floodClosures++;
        this.options.logger.warn(
          { event: 'close', address: peer.address, role: state.role, dropped: budget.dropped },
          'relay peer closed for flooding',
        );
        refuse(peer, 'TOO_FREQUENT', 'Too many messages; slow down.', CloseCode.flood);
      }
      return false;
    };
    const timer = setTimeout(() => {
      if (state.role === 'pending')
        refuse(peer, 'HELLO_TIMEOUT', 'No hello within the time limit.', CloseCode.helloTimeout);
    }, this.helloTimeoutMs);
    const detach = (attached: PeerState) => {
      if (attached.role === 'agent') this.lifecycle.agentGone(attached.session, peer);
      if (attached.role === 'operator') this.lifecycle.operatorLeft(attached.session, attached.side);
    };

    return {
      onMessage: (data) => {
        this.counters.receivedBytes += data.byteLength;
        try {
          if (state.role === 'closed' || flooded) return;
          if (state.role === 'pending') {
            if (helloSeen) return; // a second frame while the first is being verified: ignore it
            helloSeen = true;
            void this.admission.hello(peer, data).then((next) => {
              clearTimeout(timer);
              // The socket closed while its hello was being verified: undo the attachment.
              if (state.role === 'closed') detach(next);
              else state = next;
            });
            return;
          }
          if (state.role === 'agent') this.dispatch.fromAgent(state.session, data, mayWrite);
          else this.dispatch.fromOperator(state.session, state.side, data, mayWrite);
        } catch (error) {
          this.options.logger.error({ err: error }, 'relay message handler failed');
        }
      },
      onClose: () => {
        clearTimeout(timer);
        const previous = state;
        state = { role: 'closed' };
        detach(previous);
      },
    };
  }

  stats(): RelayStats {
    const counters = this.counters;
    let operators = 0;
    let agents = 0;
    let dropped = counters.droppedVideoFramesOfEnded;
    for (const session of this.lifecycle.live()) {
      operators += session.operators.size;
      if (session.agentGraceTimer === undefined) agents++;
      dropped += session.droppedFrames;
    }
    return {
      sessions: this.lifecycle.size,
      agents,
      operators,
      receivedBytes: counters.receivedBytes,
      malformedFrames: counters.malformedFrames,
      droppedVideoFrames: dropped,
      refusedFrames: counters.refusedFrames,
      unroutedChannelFrames: counters.unroutedChannelFrames,
      droppedPermissionRequests: this.permissionRequests.dropped,
      outOfStateMessages: counters.outOfStateMessages,
      droppedInputEvents: this.roster.droppedInput,
      overBudgetMessages: counters.overBudgetMessages,
      floodClosures: counters.floodClosures,
    };
  }

  /** Whether the session's agent is connected to this node. */
  isLive(sessionId: string): boolean {
    return this.lifecycle.get(sessionId) !== undefined;
  }

  /**
   * Whether this node holds the session but its agent is not connected: it dropped and the session
   * waits out its grace period, or it has not come back since a restart of the control plane.
   */
  agentAway(sessionId: string): boolean {
    return this.lifecycle.agentAway(sessionId);
  }

  /** What the agent of a live session said about itself in its hello (its features included). */
  agentInfo(sessionId: string): PeerInfo | undefined {
    return this.lifecycle.get(sessionId)?.agent.info;
  }

  /** The recent chat of a live session, oldest first; undefined when it is not live on this node. */
  chatHistory(sessionId: string): readonly StampedChat[] | undefined {
    return this.lifecycle.get(sessionId)?.chat.list();
  }

  /**
   * Attaches an operator connection that is not a socket (the HTTP API's participant) to a live
   * session. It is routed, checked and audited like a console's socket; `peer.send` receives what
   * the relay sends it. Returns undefined when the session is not live on this node.
   */
  attachInProcess(
    sessionId: string,
    peer: RelayPeer,
    identity: OperatorIdentity,
  ): RelayConnection | undefined {
    const session = this.lifecycle.get(sessionId);
    if (!session || session.ended) return undefined;
    const side = joinOperator(session, peer, identity, this.joinDeps);
    if (!side) return undefined;
    let open = true;
    return {
      onMessage: (data) => {
        this.counters.receivedBytes += data.byteLength;
        try {
          if (open && !session.ended) this.dispatch.fromOperator(session, side, data);
        } catch (error) {
          this.options.logger.error({ err: error }, 'relay message handler failed');
        }
      },
      onClose: () => {
        open = false;
        this.lifecycle.operatorLeft(session, side);
      },
    };
  }

  /** Called when a code is redeemed, so the unused-code timer does not end the session. */
  codeRedeemed(sessionId: string): void {
    this.lifecycle.codeRedeemed(sessionId);
  }

  /** Moves the unused-code timer when an operator extends the code. */
  codeExtended(sessionId: string, expiresAt: Date): void {
    this.lifecycle.codeExtended(sessionId, expiresAt);
  }

  /** Ends a session from the API. Returns false when it is not live on this node. */
  async end(sessionId: string, reason: EndReason): Promise<boolean> {
    const session = this.lifecycle.get(sessionId);
    if (!session) return false;
    // The API route audits the end with its own actor (an operator or an API token).
    await this.lifecycle.endSession(session, reason, undefined, false);
    return true;
  }

  /** Closes every socket opened under a console login (on logout). */
  disconnectLogin(loginSessionId: string): void {
    this.lifecycle.closeOperators((side) => side.loginSessionId === loginSessionId, 'logged out');
  }

  /** Closes every socket an operator holds (when disabled). */
  disconnectOperator(operatorId: string): void {
    this.lifecycle.closeOperators((side) => side.operatorId === operatorId, 'operator disabled');
  }

  /** Takes over the sessions a previous run of this node left open (see {@link SessionLifecycle.resumeLeftOpen}). */
  resumeLeftOpen(rows: readonly SessionRow[]): Promise<{ waiting: number; ended: number }> {
    return this.lifecycle.resumeLeftOpen(rows);
  }

  /** Stops the relay for a restart without ending the sessions (see {@link SessionLifecycle.shutdown}). */
  shutdown(): Promise<void> {
    return this.lifecycle.shutdown();
  }

  /** What every welcome says besides its session: the protocol and how often to send a heartbeat. */
  welcome(): WelcomeBase {
    return this.welcomeBase;
  }
}

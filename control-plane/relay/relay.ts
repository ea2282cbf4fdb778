import {
  CloseCode,
  type ControlMessage,
  DEFAULT_OFFER,
  decodeFrame,
  type EndReason,
  encodeControl,
  FrameKind,
  inertDeviceInfo,
  type MessageOf,
  MIN_PROTOCOL_VERSION,
  NO_PERMISSIONS,
  type PeerInfo,
  type Permissions,
  PROTOCOL_VERSION,
  policySchema,
  type ResultCode,
} from '../../protocol/index.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../logger.ts';
import type { Recordings } from '../recordings/recordings.ts';
import type { SessionRow, SessionStore } from '../sessions/session-store.ts';
import { isTokenError, type TokenService } from '../tokens/tokens.ts';
import { ChannelRouter, isAgentChannelMessage, isOperatorChannelMessage } from './channel-router.ts';
import type { StampedChat } from './chat-history.ts';
import { ChatRouter } from './chat-router.ts';
import { type AgentSide, LiveSession, type OperatorSide } from './live-session.ts';
import { PING_SECONDS } from './liveness.ts';
import { MessageBudget } from './message-budget.ts';
import { type JoinDeps, joinOperator, type OperatorIdentity } from './operator-join.ts';
import { PermissionRequests } from './permission-requests.ts';
import type { RelayConnection, RelayPeer } from './relay-peer.ts';
import { ReturningAgents } from './returning-agents.ts';
import { spreadDelay, TaskQueue } from './spread.ts';

/** A peer whose hello has not arrived by then is closed, in milliseconds. */
export const HELLO_TIMEOUT_MS = 10_000;
/** How long a session waits for a disconnected agent to come back, in milliseconds. */
export const AGENT_GRACE_MS = 30_000;
/** Most session ends written to the database at once; the others wait their turn. */
export const END_WRITES_AT_ONCE = 4;
/** How often idle and maximum-length limits are checked, in milliseconds. */
export const LIMIT_CHECK_INTERVAL_MS = 5_000;
/** What the end user and operators are told when a mandatory recording cannot be made. */
export const RECORDING_FAILED_MESSAGE =
  'This session must be recorded, and the recording could not be written on the server. Try again later or tell your administrator.';

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
}

export interface RelayStats {
  sessions: number;
  /** Sessions whose agent is connected now (not waiting out its grace period). */
  agents: number;
  operators: number;
  /** Bytes received from agents and operators. */
  receivedBytes: number;
  malformedFrames: number;
  droppedVideoFrames: number;
  /** File and shell frames from operators dropped because the end user did not allow them. */
  refusedFrames: number;
  /** Channel frames from agents whose operator connection had already left. */
  unroutedChannelFrames: number;
  /** Permission requests dropped: before consent, or asked again too soon by the same connection. */
  droppedPermissionRequests: number;
  /** Messages that do not fit the session's state (an agent's chat before consent, a second consent). */
  outOfStateMessages: number;
  /** Messages dropped because their connection passed its write budget. */
  overBudgetMessages: number;
  /** Connections closed for flooding (close code 4003). */
  floodClosures: number;
}

/** Control messages that make the server write (an audit row, a log line, a recording event). */
const WRITING_MESSAGES: ReadonlySet<ControlMessage['type']> = new Set([
  'chat',
  'permissions',
  'permission-request',
  'consent',
  'end',
  'shell-open',
  'exec',
  'file-read',
  'file-write',
  'file-op',
]);

type PeerState =
  | { role: 'pending' }
  | { role: 'agent'; session: LiveSession }
  | { role: 'operator'; session: LiveSession; side: OperatorSide }
  | { role: 'closed' };

/**
 * The WebSocket relay: pairs an agent with its operators by session, forwards control messages and
 * video, and ends both sides cleanly when either leaves. It grants nothing on its own: the agent
 * decides what the end user allowed, and the relay only passes operators' input on after that.
 */
export class Relay {
  private readonly sessions = new Map<string, LiveSession>();
  private readonly usedJtis = new Map<string, number>();
  private malformedFrames = 0;
  private refusedFrames = 0;
  private unroutedChannelFrames = 0;
  private droppedVideoFramesOfEnded = 0;
  private outOfStateMessages = 0;
  private overBudgetMessages = 0;
  private floodClosures = 0;
  private receivedBytes = 0;
  private readonly helloTimeoutMs: number;
  private readonly channels: ChannelRouter;
  private readonly chat: ChatRouter;
  private readonly permissionRequests: PermissionRequests;
  private readonly joinDeps: JoinDeps;
  /** Sessions left open by a previous run of this node, until their agents come back. */
  private readonly returning: ReturningAgents;

  private readonly limitTimer: ReturnType<typeof setInterval>;
  /** Session ends' database writes, a few at a time: a site losing its link must not stall the server. */
  private readonly endWrites = new TaskQueue(END_WRITES_AT_ONCE);

  constructor(private readonly options: RelayOptions) {
    this.helloTimeoutMs = options.helloTimeoutMs ?? HELLO_TIMEOUT_MS;
    this.channels = new ChannelRouter({
      audit: options.audit,
      logger: options.logger,
      malformed: () => this.malformedFrames++,
      refused: () => this.refusedFrames++,
      unrouted: () => this.unroutedChannelFrames++,
    });
    this.chat = new ChatRouter({ audit: options.audit, logger: options.logger });
    this.permissionRequests = new PermissionRequests({ audit: options.audit, logger: options.logger });
    this.joinDeps = {
      chat: this.chat,
      audit: options.audit,
      logger: options.logger,
      heartbeatSeconds: this.welcome().heartbeatSeconds,
    };
    this.returning = new ReturningAgents((sessionId) => this.endAbsent(sessionId, 'server-restart'));
    this.limitTimer = setInterval(() => this.enforceLimits(), LIMIT_CHECK_INTERVAL_MS);
    this.limitTimer.unref();
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

  /** Accepts a new socket; the first frame must be a `hello` and must arrive in time. */
  accept(peer: RelayPeer): RelayConnection {
    let state: PeerState = { role: 'pending' };
    let helloSeen = false;
    const budget = new MessageBudget();
    /** Set once the socket is being closed for flooding: what it still sends is ignored. */
    let flooded = false;
    /** Whether a message that makes the server write may go on; a persistent flood closes the socket. */
    const mayWrite = (): boolean => {
      const verdict = budget.take();
      if (verdict === 'pass') return true;
      this.overBudgetMessages++;
      if (verdict === 'close' && !flooded) {
        flooded = true;
        this.floodClosures++;
        this.options.logger.warn(
          { event: 'close', address: peer.address, role: state.role, dropped: budget.dropped },
          'relay peer closed for flooding',
        );
        this.refuse(peer, 'TOO_FREQUENT', 'Too many messages; slow down.', CloseCode.flood);
      }
      return false;
    };
    const timer = setTimeout(() => {
      if (state.role === 'pending')
        this.refuse(peer, 'HELLO_TIMEOUT', 'No hello within the time limit.', CloseCode.helloTimeout);
    }, this.helloTimeoutMs);

    return {
      onMessage: (data) => {
        this.receivedBytes += data.byteLength;
        try {
          if (state.role === 'closed' || flooded) return;
          if (state.role === 'pending') {
            if (helloSeen) return; // a second frame while the first is being verified: ignore it
            helloSeen = true;
            void this.handleHello(peer, data).then((next) => {
              clearTimeout(timer);
              if (state.role === 'closed') {
                // The socket closed while its hello was being verified: undo the attachment.
                if (next.role === 'agent') this.agentGone(next.session, peer);
                if (next.role === 'operator') this.removeOperator(next.session, next.side);
                return;
              }
              state = next;
            });
            return;
          }
          if (state.role === 'agent') this.fromAgent(state.session, data, mayWrite);
          else this.fromOperator(state.session, state.side, data, mayWrite);
        } catch (error) {
          this.options.logger.error({ err: error }, 'relay message handler failed');
        }
      },
      onClose: () => {
        clearTimeout(timer);
        const previous = state;
        state = { role: 'closed' };
        if (previous.role === 'agent') this.agentGone(previous.session, peer);
        if (previous.role === 'operator') this.removeOperator(previous.session, previous.side);
      },
    };
  }

  stats(): RelayStats {
    let operators = 0;
    let agents = 0;
    let dropped = this.droppedVideoFramesOfEnded;
    for (const session of this.sessions.values()) {
      operators += session.operators.size;
      if (session.agentGraceTimer === undefined) agents++;
      dropped += session.droppedFrames;
    }
    return {
      sessions: this.sessions.size,
      agents,
      operators,
      receivedBytes: this.receivedBytes,
      malformedFrames: this.malformedFrames,
      droppedVideoFrames: dropped,
      refusedFrames: this.refusedFrames,
      unroutedChannelFrames: this.unroutedChannelFrames,
      droppedPermissionRequests: this.permissionRequests.dropped,
      outOfStateMessages: this.outOfStateMessages,
      overBudgetMessages: this.overBudgetMessages,
      floodClosures: this.floodClosures,
    };
  }

  /** Whether the session's agent is connected to this node. */
  isLive(sessionId: string): boolean {
    return this.sessions.has(sessionId);
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

  /** What the agent of a live session said about itself in its hello (its features included). */
  agentInfo(sessionId: string): PeerInfo | undefined {
    return this.sessions.get(sessionId)?.agent.info;
  }

  /** The recent chat of a live session, oldest first; undefined when it is not live on this node. */
  chatHistory(sessionId: string): readonly StampedChat[] | undefined {
    return this.sessions.get(sessionId)?.chat.list();
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
    const session = this.sessions.get(sessionId);
    if (!session || session.ended) return undefined;
    const side = joinOperator(session, peer, identity, this.joinDeps);
    if (!side) return undefined;
    let open = true;
    return {
      onMessage: (data) => {
        this.receivedBytes += data.byteLength;
        try {
          if (open && !session.ended) this.fromOperator(session, side, data);
        } catch (error) {
          this.options.logger.error({ err: error }, 'relay message handler failed');
        }
      },
      onClose: () => {
        open = false;
        this.removeOperator(session, side);
      },
    };
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

  /** Ends a session from the API. Returns false when it is not live on this node. */
  async end(sessionId: string, reason: EndReason): Promise<boolean> {
    const session = this.sessions.get(sessionId);
    if (!session) return false;
    // The API route audits the end with its own actor (an operator or an API token).
    await this.endSession(session, reason, undefined, false);
    return true;
  }

  /** Closes every socket opened under a console login (on logout). */
  disconnectLogin(loginSessionId: string): void {
    for (const session of this.sessions.values()) {
      for (const side of session.operators.values()) {
        if (side.loginSessionId === loginSessionId) side.peer.close(CloseCode.policy, 'logged out');
      }
    }
  }

  /** Closes every socket an operator holds (when disabled). */
  disconnectOperator(operatorId: string): void {
    for (const session of this.sessions.values()) {
      for (const side of session.operators.values()) {
        if (side.operatorId === operatorId) side.peer.close(CloseCode.policy, 'operator disabled');
      }
    }
  }

  /**
   * Takes over the sessions a previous run of this node left open (it was stopped or crashed): each
   * waits the agent grace period for its agent to come back with its token and carry on, consent
   * and permissions kept, and is ended as `server-restart` if it does not. A session whose policy
   * makes recording mandatory ends at once: its recording cannot be continued.
   */
  async resumeLeftOpen(rows: readonly SessionRow[]): Promise<{ waiting: number; ended: number }> {
    const graceMs = this.options.agentGraceMs ?? AGENT_GRACE_MS;
    let ended = 0;
    for (const row of rows) {
      const policy = policySchema.safeParse(row.policy);
      if (graceMs <= 0 || (policy.success && policy.data.recordingMandatory)) {
        await this.endAbsent(row.id, 'server-restart');
        ended++;
      } else {
        this.returning.wait(row.id, graceMs);
      }
    }
    return { waiting: rows.length - ended, ended };
  }

  /**
   * Stops the relay for a restart without ending the sessions: every socket is closed as a service
   * restart, and agents and operators that come back within the grace period carry on. A session
   * being recorded ends, so that its recording is finished rather than cut off.
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

  private refuse(
    peer: RelayPeer,
    code: ResultCode,
    message: string,
    closeCode: number = CloseCode.policy,
  ): PeerState {
    peer.send(encodeControl({ type: 'error', code, message }));
    peer.close(closeCode, code);
    return { role: 'closed' };
  }

  /** What every welcome says besides its session: the protocol and how often to send a heartbeat. */
  welcome() {
    const heartbeatSeconds = (this.options.pingMs ?? PING_SECONDS * 1000) / 1000;
    return { type: 'welcome', protocol: PROTOCOL_VERSION, heartbeatSeconds } as const;
  }

  private async handleHello(peer: RelayPeer, data: Uint8Array): Promise<PeerState> {
    const decoded = decodeFrame(data);
    if (!decoded.ok || decoded.frame.kind !== 'control' || decoded.frame.message.type !== 'hello') {
      this.malformedFrames++;
      return this.refuse(peer, 'MALFORMED', 'The first message must be a hello.');
    }
    const hello = decoded.frame.message;
    if (hello.protocol < MIN_PROTOCOL_VERSION || hello.protocol > PROTOCOL_VERSION) {
      return this.refuse(
        peer,
        'PROTOCOL_UNSUPPORTED',
        `Protocol ${hello.protocol} is not supported; this relay speaks ${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION}. Update the ${hello.role === 'agent' ? 'agent' : 'console'}.`,
      );
    }
    try {
      return hello.role === 'agent'
        ? // What a device says about itself reaches consoles and the database only made inert.
          await this.attachAgent(peer, { ...hello, client: inertDeviceInfo(hello.client) })
        : await this.attachOperator(peer, hello);
    } catch (error) {
      if (isTokenError(error)) {
        this.options.logger.warn(
          { address: peer.address, role: hello.role, reason: error.message },
          'relay hello refused',
        );
        return this.refuse(
          peer,
          'TOKEN_INVALID',
          `The ${hello.role} token is ${error.kind === 'expired' ? 'expired' : 'invalid'}.`,
        );
      }
      this.options.logger.error({ err: error }, 'relay hello failed');
      return this.refuse(peer, 'INTERNAL', 'The relay could not accept this connection.');
    }
  }

  private async attachAgent(peer: RelayPeer, hello: MessageOf<'hello'>): Promise<PeerState> {
    const claims = await this.options.tokens.verify('relayAgent', hello.token);
    const sessionId = claims.sub;
    await this.returning.arrived(sessionId);
    const row = await this.options.store.get(sessionId);
    if (!row || row.status === 'ended') return this.refuse(peer, 'SESSION_ENDED', 'This session has ended.');
    const live = this.sessions.get(sessionId);
    if (live) return this.resumeAgent(live, peer, hello);
    if (row.initiator === 'operator' && !row.codeRedeemedAt) {
      // An agent stamped with an operator's session (no code typed) claims it here, once.
      const claim = await this.options.store.claimForAgent(sessionId);
      if (claim !== 'claimed') {
        return this.refuse(
          peer,
          claim,
          claim === 'CODE_EXPIRED'
            ? 'This invitation has expired. Ask your help desk for a new link.'
            : 'Another agent already joined this session.',
        );
      }
    }
    const agent: AgentSide = { peer, info: hello.client };
    const policy = policySchema.safeParse(row.policy);
    const session = new LiveSession(sessionId, agent, policy.success ? policy.data : undefined);
    // Back after a restart of the control plane: the end user already answered, and is not asked again.
    if (row.status === 'active') session.resumeConsented(row.permissions ?? NO_PERMISSIONS, row.activatedAt);
    this.sessions.set(sessionId, session);
    await this.options.store.markAgentConnected(sessionId, this.options.node, hello.client);
    if (session.policy?.recordingMandatory && !(await this.openRecording(session))) return { role: 'closed' };
    if (row.initiator === 'agent' && !row.codeRedeemedAt && row.codeExpiresAt) {
      const remaining = row.codeExpiresAt.getTime() - Date.now();
      session.codeTimer = setTimeout(() => void this.expireCode(session), Math.max(0, remaining));
    }
    peer.send(encodeControl({ ...this.welcome(), sessionId }));
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
    return { role: 'agent', session };
  }

  /**
   * The agent's connection dropped: operators are told, and the session waits for the agent to come
   * back with its token (consent and permissions kept) until the grace period ends it.
   */
  private agentGone(session: LiveSession, peer: RelayPeer): void {
    if (session.ended || session.agent.peer !== peer) return; // superseded by a newer connection
    const graceMs = this.options.agentGraceMs ?? AGENT_GRACE_MS;
    if (graceMs <= 0) {
      void this.endSession(session, 'agent-disconnected');
      return;
    }
    session.toOperators({ type: 'agent-status', state: 'reconnecting' });
    clearTimeout(session.agentGraceTimer);
    session.agentGraceTimer = setTimeout(
      () => void this.endSession(session, 'agent-disconnected'),
      spreadDelay(graceMs),
    );
    this.options.logger.info(
      { event: 'disconnect', role: 'agent', sessionId: session.id, graceMs },
      'agent lost',
    );
  }

  /** The agent came back (or a half-open old socket is replaced): the session carries on. */
  private resumeAgent(session: LiveSession, peer: RelayPeer, hello: MessageOf<'hello'>): PeerState {
    clearTimeout(session.agentGraceTimer);
    session.agentGraceTimer = undefined;
    const old = session.agent.peer;
    session.agent = { peer, info: hello.client };
    if (old !== peer) old.close(CloseCode.normal, 'replaced by a new connection');
    for (const operator of session.operators.values()) operator.needsKeyframe = true;
    session.recorder?.keyframeNeeded();
    peer.send(encodeControl({ ...this.welcome(), sessionId: session.id }));
    session.toOperators({ type: 'agent-status', state: 'connected' });
    this.options.logger.info(
      { event: 'connect', role: 'agent', sessionId: session.id, address: peer.address },
      'agent resumed',
    );
    return { role: 'agent', session };
  }

  private async attachOperator(peer: RelayPeer, hello: MessageOf<'hello'>): Promise<PeerState> {
    const claims = await this.options.tokens.verify('relayOperator', hello.token);
    if (this.usedJtis.has(claims.jti))
      return this.refuse(peer, 'TOKEN_INVALID', 'This join token was already used.');
    this.rememberJti(claims.jti, claims.exp);
    const session = claims.sid ? this.sessions.get(claims.sid) : undefined;
    if (!session || session.ended) {
      return this.refuse(peer, 'AGENT_OFFLINE', 'The agent of this session is not connected.');
    }
    if (!(await this.options.operatorMayConnect(claims.sub, claims.lsid))) {
      return this.refuse(peer, 'TOKEN_INVALID', 'This operator was disabled or logged out.');
    }
    if (session.ended)
      return this.refuse(peer, 'AGENT_OFFLINE', 'The agent of this session is not connected.');
    // From here on nothing awaits: once the welcome is out, the operator's next frames (input right
    // away, on a session already consented) must find the socket attached, not still in its hello.
    const side = joinOperator(
      session,
      peer,
      {
        operatorId: claims.sub,
        name: claims.name ?? claims.sub,
        loginSessionId: claims.lsid,
        actor: { actorType: 'operator', actorId: claims.sub },
        requested: { ...DEFAULT_OFFER, control: true },
        video: true,
      },
      this.joinDeps,
    );
    if (!side) return this.refuse(peer, 'CONFLICT', 'This session has too many operator connections.');
    return { role: 'operator', session, side };
  }

  private fromAgent(session: LiveSession, data: Uint8Array, mayWrite: () => boolean): void {
    if (data[0] === FrameKind.video) {
      // The hot path: the header is checked (no copy); the H.264 payload is the operators' decoders' to judge.
      const decoded = decodeFrame(data);
      if (decoded.ok) session.forwardVideo(data);
      else this.malformedFrames++;
      return;
    }
    if (data[0] === FrameKind.file || data[0] === FrameKind.shell) {
      this.channels.fromAgentFrame(session, data);
      return;
    }
    const message = this.decodeControl(data);
    if (!message) return;
    if (isAgentChannelMessage(message)) {
      this.channels.fromAgent(session, message);
      return;
    }
    if (message.type === 'heartbeat') {
      session.toAgent(message);
      return;
    }
    if (!this.fitsAgentState(session, message)) {
      this.outOfStateMessages++;
      return;
    }
    if (WRITING_MESSAGES.has(message.type) && !mayWrite()) return;
    switch (message.type) {
      case 'chat':
        this.chat.fromAgent(session, message);
        return;
      case 'consent':
        this.onConsent(session, message).catch((error: unknown) =>
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
      case 'video-config':
        session.videoConfig = message;
        session.recorder?.json('videoConfig', message);
        session.toOperators(message);
        return;
      case 'end':
        void this.endSession(
          session,
          message.reason === 'consent-refused' ? 'consent-refused' : 'user-ended',
        );
        return;
      default:
        this.malformedFrames++;
    }
  }

  /**
   * Whether an agent's message belongs to the session's state. Chat and permission changes mean
   * something only once the end user accepted (before that nobody reads them), and consent answers
   * an operator's arrival, once: anything else would only fill the audit log.
   */
  private fitsAgentState(session: LiveSession, message: ControlMessage): boolean {
    switch (message.type) {
      case 'chat':
      case 'permissions':
        return session.consent === 'accepted';
      case 'consent':
        return session.consent === 'pending' && session.operators.size > 0;
      default:
        return true;
    }
  }

  private fromOperator(
    session: LiveSession,
    side: OperatorSide,
    data: Uint8Array,
    mayWrite: () => boolean = () => true,
  ): void {
    if (data[0] === FrameKind.file || data[0] === FrameKind.shell) {
      this.channels.fromOperatorFrame(session, side, data);
      return;
    }
    const message = this.decodeControl(data);
    if (!message) return;
    if (WRITING_MESSAGES.has(message.type) && !mayWrite()) return;
    if (isOperatorChannelMessage(message)) {
      this.channels.fromOperator(session, side, message);
      return;
    }
    switch (message.type) {
      case 'chat':
        this.chat.fromOperator(session, side, message);
        return;
      case 'permission-request':
        this.permissionRequests.fromOperator(session, side, message);
        return;
      case 'input':
        // Defence in depth only: the agent enforces the policy and the user's permissions itself.
        session.lastActivityAt = Date.now();
        if (
          session.consent === 'accepted' &&
          session.permissions.control &&
          session.policy?.modes.control !== false
        ) {
          session.toAgent(message);
        }
        return;
      case 'heartbeat':
        side.peer.send(encodeControl(message));
        return;
      case 'request-keyframe':
        side.needsKeyframe = true;
        session.requestKeyframe();
        return;
      case 'end':
        void this.endSession(session, 'operator-ended', side.operatorId);
        return;
      default:
        this.malformedFrames++;
    }
  }

  private decodeControl(data: Uint8Array): ControlMessage | undefined {
    const decoded = decodeFrame(data);
    if (!decoded.ok || decoded.frame.kind !== 'control') {
      this.malformedFrames++;
      return undefined;
    }
    return decoded.frame.message;
  }

  private async onConsent(session: LiveSession, message: MessageOf<'consent'>): Promise<void> {
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

  private async expireCode(session: LiveSession): Promise<void> {
    const row = await this.options.store.get(session.id);
    if (row && !row.codeRedeemedAt && session.operators.size === 0)
      await this.endSession(session, 'code-expired');
  }

  private removeOperator(session: LiveSession, side: OperatorSide): void {
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

  private async endSession(
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
    this.droppedVideoFramesOfEnded += session.droppedFrames;
    const end = encodeControl({ type: 'end', reason, ...(message ? { message } : {}) });
    for (const side of [session.agent.peer, ...[...session.operators.values()].map((o) => o.peer)]) {
      side.send(end);
      side.close(CloseCode.normal, reason);
    }
    session.operators.clear();
    this.options.logger.info({ event: 'close', sessionId: session.id, reason }, 'session ended');
    try {
      await this.endWrites.run(async () => {
        if ((await this.options.store.markEnded(session.id, reason)) && audit) {
          await this.options.audit.record({
            actorType: actorId ? 'operator' : 'system',
            actorId: actorId ?? null,
            action: 'session.end',
            sessionId: session.id,
            details: { reason, ...(message ? { message } : {}) },
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

  private rememberJti(jti: string, exp: number): void {
    const now = Date.now() / 1000;
    for (const [key, expiry] of this.usedJtis) if (expiry < now) this.usedJtis.delete(key);
    this.usedJtis.set(jti, exp);
  }
}

function samePermissions(a: Permissions, b: Permissions): boolean {
  return (Object.keys(a) as (keyof Permissions)[]).every((key) => a[key] === b[key]);
}

import { randomUUID } from 'node:crypto';
import {
  type Capability,
  type ChannelOwner,
  type ControlMessage,
  type FileChunkFrame,
  NO_PERMISSIONS,
  type Permissions,
  RelayLink,
  RelayLinkError,
  type RequestPort,
  type ShellDataFrame,
} from '../../protocol/index.ts';
import {
  type AgentChannelMessage,
  capabilityRefusal,
  isAgentChannelMessage,
} from '../relay/channel-router.ts';
import type { StampedChat } from '../relay/chat-history.ts';
import type { OperatorIdentity } from '../relay/operator-join.ts';
import { PERMISSION_REQUEST_INTERVAL_MS } from '../relay/permission-requests.ts';
import type { Relay } from '../relay/relay.ts';
import type { RelayConnection, RelayPeer } from '../relay/relay-peer.ts';
import { ChannelFailure } from './channel-failure.ts';
import { InProcessSocket } from './in-process-socket.ts';

/** How long a chat message waits for the relay's echo, in milliseconds. */
export const CHAT_ECHO_TIMEOUT_MS = 10_000;

/** What one open channel does with the agent's answers. */
export interface ChannelHandler {
  message(message: AgentChannelMessage): void;
  data(frame: FileChunkFrame | ShellDataFrame): void;
  /** The channel cannot go on: the session ended, the agent went away, or the participant left. */
  lost(failure: ChannelFailure): void;
}

type ConsentState = 'pending' | 'accepted';

/**
 * The HTTP API's operator connection to one session, inside the relay rather than over a socket: a
 * {@link RelayLink} over an {@link InProcessSocket}. It holds a slot like a console's socket, so
 * everything it sends is routed, checked and audited the same way, and it keeps what an operator
 * learns from the relay: the end user's consent and permissions, and the channels it opened.
 */
export class ApiParticipant {
  slot: number | undefined;
  consent: ConsentState = 'pending';
  permissions: Permissions = { ...NO_PERMISSIONS };
  /** Why the participant can no longer be used; set once. */
  gone: ChannelFailure | undefined;
  /** Set while the agent's connection is lost and the relay waits for it to come back. */
  agentAway = false;
  private link: RelayLink | undefined;
  private socket: InProcessSocket | undefined;
  /** The owners of the channels open now, told when the agent goes away. */
  private readonly owners = new Map<number, ChannelOwner>();
  /** Channels lost while the agent was away: closed on its return, in case it kept them running. */
  private readonly closeOnReturn = new Set<number>();
  private readonly listeners = new Set<() => void>();
  private readonly chatEchoes = new Map<string, (result: StampedChat | ChannelFailure) => void>();
  private connection: RelayConnection | undefined;
  /** Channels for requests ({@link requestOnChannel}), opened and closed like any other. */
  readonly requests: RequestPort = {
    open: (owner) => (this.link && !this.gone ? this.openOwned(owner) : undefined),
    release: (channel) => this.release(channel),
    send: (message) => {
      this.send(message);
      return !this.gone;
    },
  };
  /** `permissions` messages received: one answers each permission request. */
  private answers = 0;
  /** When this participant last asked the end user for more, in milliseconds since the epoch. */
  private askedAt = Number.NEGATIVE_INFINITY;
  /** Whether that request still waits for its answer. */
  private asking = false;

  private constructor(private readonly onGone: (participant: ApiParticipant) => void) {}

  /**
   * Joins a live session as an operator connection; undefined when it is not live on this node.
   * `onGone` runs once when the session ends or the participant detaches.
   */
  static attach(
    relay: Relay,
    sessionId: string,
    identity: OperatorIdentity & { address: string },
    onGone: (participant: ApiParticipant) => void,
  ): ApiParticipant | undefined {
    const participant = new ApiParticipant(onGone);
    const socket = new InProcessSocket(
      (bytes) => participant.connection?.onMessage(bytes),
      () => participant.connection?.onClose(),
    );
    participant.socket = socket;
    participant.link = new RelayLink(socket, {
      onMessage: (message) => participant.receive(message),
      onVideo: () => {},
      onChannelFrame: () => {}, // late bytes of a channel already released
      onClose: () => participant.fail(new ChannelFailure('SESSION_ENDED', 'The session has ended.')),
    });
    const peer: RelayPeer = {
      address: identity.address,
      send: (bytes) => socket.deliver(bytes),
      close: () => socket.close(),
      // Delivered synchronously; each transfer bounds what it holds by its flow-control window.
      bufferedAmount: () => 0,
    };
    participant.connection = relay.attachInProcess(sessionId, peer, identity);
    if (!participant.connection) return undefined;
    if (participant.slot === undefined) {
      participant.connection.onClose();
      return undefined;
    }
    return participant;
  }

  /** Registers a handler and returns the new channel's id. Register before sending its request. */
  open(handler: ChannelHandler): number {
    const channel = this.requests.open({
      onChannelMessage: (message) => {
        if (isAgentChannelMessage(message)) handler.message(message);
      },
      onChannelFrame: (frame) => handler.data(frame),
      onChannelLost: (error) => handler.lost(this.failureOf(error)),
    });
    if (channel === undefined) {
      throw this.gone ?? new ChannelFailure('AGENT_OFFLINE', 'Not attached to the session.');
    }
    return channel;
  }

  /** Why a channel was lost, as the API reports it. */
  failureOf(error: RelayLinkError): ChannelFailure {
    if (error.cause instanceof ChannelFailure) return error.cause;
    return this.gone ?? new ChannelFailure('SESSION_ENDED', 'The session has ended.');
  }

  private openOwned(owner: ChannelOwner): number | undefined {
    const channel = this.link?.openChannel(owner);
    if (channel !== undefined) this.owners.set(channel, owner);
    return channel;
  }

  /** Forgets a channel that finished; its id may be used again. */
  release(channel: number): void {
    if (this.owners.delete(channel)) this.link?.releaseChannel(channel);
  }

  /** Stops a channel on the agent (a command is killed, a transfer cancelled) and forgets it. */
  close(channel: number): void {
    if (!this.owners.has(channel)) return;
    this.release(channel);
    this.send({ type: 'channel-close', channel });
  }

  send(message: ControlMessage): void {
    if (!this.gone) this.link?.send(message);
  }

  sendBytes(bytes: Uint8Array): void {
    if (!this.gone) this.link?.sendFrame(bytes);
  }

  /**
   * Resolves once the end user allows `capability`. Fails at once when they answered without it
   * (403 CAPABILITY_NOT_ALLOWED), and after `waitMs` when they have not answered at all.
   */
  async allowed(capability: Capability, waitMs: number, signal?: AbortSignal): Promise<void> {
    await this.until(() => this.consent === 'accepted' || this.agentAway, waitMs, signal);
    if (this.gone) throw this.gone;
    if (this.agentAway) {
      throw new ChannelFailure(
        'AGENT_OFFLINE',
        "The agent's connection dropped; the session waits for it to come back. Retry shortly.",
      );
    }
    if (this.consent !== 'accepted') {
      throw new ChannelFailure(
        'CONFLICT',
        `The end user has not answered the request to connect yet (waited ${Math.round(waitMs / 1000)} s). Retry, or wait for it with GET /api/sessions/{id}/wait?until=active.`,
      );
    }
    if (!this.permissions[capability]) {
      // Ask the end user for it, and wait (bounded) for their answer before refusing.
      const answersBefore = this.answers;
      if (this.requestMore([capability])) {
        await this.until(
          () => this.permissions[capability] || this.answers > answersBefore || this.agentAway,
          waitMs,
          signal,
        );
        if (this.gone) throw this.gone;
      }
    }
    if (!this.permissions[capability]) {
      throw new ChannelFailure(
        'CAPABILITY_NOT_ALLOWED',
        `${capabilityRefusal(capability)} They were asked and did not allow it; they can switch it on in the agent's window.`,
      );
    }
  }

  /**
   * Asks the end user, after consent, for the capabilities they have not allowed yet. True when an
   * answer (a `permissions` message) is to come: this request's, or an earlier one's still pending.
   * False when there is nothing to ask, or when the user answered a request of this participant less
   * than PERMISSION_REQUEST_INTERVAL_MS ago (the relay would drop another one).
   */
  requestMore(capabilities: readonly Capability[]): boolean {
    if (this.consent !== 'accepted' || this.gone || this.agentAway) return false;
    const missing = capabilities.filter((capability) => !this.permissions[capability]);
    if (missing.length === 0) return false;
    if (this.asking) return true;
    const now = Date.now();
    if (now - this.askedAt < PERMISSION_REQUEST_INTERVAL_MS) return false;
    this.askedAt = now;
    this.asking = true;
    const requested: Permissions = { ...NO_PERMISSIONS };
    for (const capability of missing) requested[capability] = true;
    this.send({ type: 'permission-request', requested });
    return true;
  }

  /** Sends a chat message and resolves with it as the relay stamped it (its echo). */
  chat(text: string): Promise<StampedChat> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => settle(new ChannelFailure('TIMEOUT', 'The relay did not confirm the message.')),
        CHAT_ECHO_TIMEOUT_MS,
      );
      const settle = (result: StampedChat | ChannelFailure) => {
        clearTimeout(timer);
        this.chatEchoes.delete(id);
        if (result instanceof ChannelFailure) reject(result);
        else resolve(result);
      };
      this.chatEchoes.set(id, settle);
      this.send({ type: 'chat', id, text });
    });
  }

  /**
   * Leaves the session: the agent is told, and closes every channel of this slot. Calls under way
   * fail with `failure`.
   */
  detach(failure = new ChannelFailure('AGENT_OFFLINE', 'The API left the session.')): void {
    this.fail(failure);
  }

  /** Resolves when `condition` holds, the participant is gone, the wait times out or is aborted. */
  private until(condition: () => boolean, waitMs: number, signal?: AbortSignal): Promise<void> {
    if (condition() || this.gone) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const check = () => {
        if (condition() || this.gone) done();
      };
      const timer = setTimeout(done, waitMs);
      this.listeners.add(check);
      signal?.addEventListener('abort', done);
    });
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private receive(message: ControlMessage): void {
    switch (message.type) {
      case 'welcome':
        if (message.slot !== undefined) this.slot = message.slot;
        if (message.permissions) this.accept(message.permissions);
        return;
      case 'consent':
        if (message.accepted) this.accept(message.permissions);
        return;
      case 'permissions':
        this.permissions = message.permissions;
        this.answers++;
        this.asking = false;
        this.changed();
        return;
      case 'agent-status':
        this.agentStatus(message.state);
        return;
      case 'chat':
        this.chatEchoes.get(message.id)?.(message as StampedChat);
        return;
      case 'error':
        if (message.code === 'CAPABILITY_NOT_ALLOWED') {
          for (const settle of [...this.chatEchoes.values()])
            settle(new ChannelFailure(message.code, message.message));
        }
        return;
      case 'end':
        this.fail(new ChannelFailure('SESSION_ENDED', `The session has ended (${message.reason}).`));
        return;
      default:
    }
  }

  private accept(permissions: Permissions): void {
    this.consent = 'accepted';
    this.permissions = permissions;
    this.changed();
  }

  private agentStatus(state: 'reconnecting' | 'connected'): void {
    if (state === 'reconnecting') {
      this.agentAway = true;
      // A request in flight may be lost with the connection: the next call asks again.
      this.asking = false;
      const failure = new ChannelFailure(
        'AGENT_OFFLINE',
        "The agent's connection dropped during the request.",
      );
      const lost = new RelayLinkError('closed', failure.message, failure.code, { cause: failure });
      for (const [channel, owner] of [...this.owners]) {
        this.release(channel);
        this.closeOnReturn.add(channel);
        owner.onChannelLost?.(lost);
      }
    } else {
      this.agentAway = false;
      for (const channel of this.closeOnReturn) this.send({ type: 'channel-close', channel });
      this.closeOnReturn.clear();
    }
    this.changed();
  }

  /** Ends the participant once: every channel and waiter fails with `failure`, and the relay is told. */
  private fail(failure: ChannelFailure): void {
    if (this.gone) return;
    this.gone = failure;
    this.owners.clear();
    // The relay is told, and the link tells every channel's owner (with `gone`).
    this.socket?.close();
    for (const settle of [...this.chatEchoes.values()]) settle(failure);
    this.changed();
    this.onGone(this);
  }
}

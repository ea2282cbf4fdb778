import {
  type ChannelFrame,
  ChannelIds,
  type ChannelMessage,
  type ChannelOwner,
  type ControlMessage,
  isChannelMessage,
  REQUEST_TIMEOUT_MS,
  RelayLinkError,
  type RequestOptions,
  requestOnChannel,
} from '../../../protocol/index.ts';

export type { ChannelFrame, ChannelMessage, ChannelOwner };
export { isChannelMessage };

/** How the tools reach the relay on the current connection (the session's `RelayLink`). */
export interface RouterLink {
  /** The slot the relay gave this connection in `welcome.slot`. */
  readonly slot: number;
  send(message: ControlMessage): boolean;
  sendFrame(bytes: Uint8Array): boolean;
}

/** What a tool needs to open and use channels; {@link OperatorChannels} is the real one. */
export interface ChannelPort {
  /** Whether channels can be opened right now (a relay connection with a slot). */
  readonly connected: boolean;
  /** A fresh channel id routed to `owner`; undefined while not connected. */
  open(owner: ChannelOwner): number | undefined;
  /** Stops routing a channel to its owner and lets the id be used again later. */
  release(channel: number): void;
  /**
   * Stops routing a channel whose agent went away mid-way; it is closed on the agent once the
   * agent is back on this same connection ({@link OperatorChannels.closeAbandoned}).
   */
  abandon(channel: number): void;
  send(message: ControlMessage): boolean;
  sendFrame(bytes: Uint8Array): boolean;
  /**
   * Sends one request on a fresh channel and resolves with the agent's answer, with the relay link's
   * timeout ({@link requestOnChannel}); rejects with a `RelayLinkError` when the connection goes.
   */
  request<T>(
    request: (channel: number) => ControlMessage,
    answer: (message: ChannelMessage) => T | undefined,
    options?: RequestOptions,
  ): Promise<T>;
}

/**
 * Hands out channel ids of this operator connection's slot and routes what the agent sends on
 * them to the tool that opened each. A new relay connection (a reconnect) gets a new slot, so
 * {@link attach} starts afresh; messages for channels nobody owns any more are dropped.
 * @example
 * router.attach({ slot: welcome.slot, send, sendFrame });
 * const channel = router.open({ onChannelMessage: (message) => … });
 */
export class OperatorChannels implements ChannelPort {
  #link: RouterLink | undefined;
  #ids: ChannelIds | undefined;
  readonly #owners = new Map<number, ChannelOwner>();
  readonly #abandoned = new Set<number>();
  /** Messages and frames that arrived for a channel nobody owns (late output of a closed shell). */
  unrouted = 0;

  /** @param requestTimeoutMs how long a request waits for the agent; the relay link's REQUEST_TIMEOUT_MS by default. */
  constructor(private readonly requestTimeoutMs = REQUEST_TIMEOUT_MS) {}

  get connected(): boolean {
    return this.#link !== undefined;
  }

  attach(link: RouterLink): void {
    this.#lose('The connection to the relay was replaced.');
    this.#link = link;
    this.#ids = new ChannelIds(link.slot);
    this.#abandoned.clear();
  }

  /** The connection is gone: pending requests are rejected, every channel is forgotten. */
  detach(): void {
    this.#lose('The connection to the relay was lost.');
    this.#link = undefined;
    this.#ids = undefined;
    this.#abandoned.clear();
  }

  open(owner: ChannelOwner): number | undefined {
    if (!this.#ids) return undefined;
    const channel = this.#ids.next();
    this.#owners.set(channel, owner);
    return channel;
  }

  release(channel: number): void {
    this.#owners.delete(channel);
    this.#ids?.release(channel);
  }

  abandon(channel: number): void {
    this.#owners.delete(channel);
    if (this.#ids) this.#abandoned.add(channel);
  }

  /**
   * The agent came back: closes the channels it had open when it left, in case it kept them, so
   * a shell or a transfer nobody listens to any more does not linger there.
   */
  closeAbandoned(): void {
    for (const channel of this.#abandoned) {
      this.send({ type: 'channel-close', channel });
      this.#ids?.release(channel);
    }
    this.#abandoned.clear();
  }

  request<T>(
    request: (channel: number) => ControlMessage,
    answer: (message: ChannelMessage) => T | undefined,
    options?: RequestOptions,
  ): Promise<T> {
    return requestOnChannel(this, request, answer, { timeoutMs: this.requestTimeoutMs, ...options });
  }

  send(message: ControlMessage): boolean {
    return this.#link?.send(message) ?? false;
  }

  sendFrame(bytes: Uint8Array): boolean {
    return this.#link?.sendFrame(bytes) ?? false;
  }

  /** Tells every owner its channel is lost (a pending request rejects) and forgets them all. */
  #lose(reason: string): void {
    const owners = [...this.#owners.values()];
    this.#owners.clear();
    const error = new RelayLinkError('closed', reason);
    for (const owner of owners) owner.onChannelLost?.(error);
  }

  route(message: ChannelMessage): void {
    const owner = this.#owners.get(message.channel);
    if (owner) owner.onChannelMessage(message);
    else this.unrouted++;
  }

  routeFrame(frame: ChannelFrame): void {
    const owner = this.#owners.get(frame.channel);
    if (owner?.onChannelFrame) owner.onChannelFrame(frame);
    else this.unrouted++;
  }
}

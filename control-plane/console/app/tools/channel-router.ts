import {
  ChannelIds,
  type ControlMessage,
  type FileChunkFrame,
  type ShellDataFrame,
} from '../../../../protocol/index.ts';

/** A control message that belongs to a channel (shell, command, file transfer, listing). */
export type ChannelMessage = Extract<ControlMessage, { channel: number }>;

/** Bytes on a channel: part of a file, or shell output. */
export type ChannelFrame = FileChunkFrame | ShellDataFrame;

/** Whatever opened a channel and handles what arrives on it. */
export interface ChannelOwner {
  onChannelMessage(message: ChannelMessage): void;
  onChannelFrame?(frame: ChannelFrame): void;
}

/** How the tools reach the relay on the current connection. */
export interface RelayLink {
  /** The slot the relay gave this connection in `welcome.slot`. */
  readonly slot: number;
  send(message: ControlMessage): boolean;
  sendFrame(bytes: Uint8Array): boolean;
}

/** What a tool needs to open and use channels; {@link ChannelRouter} is the real one. */
export interface ChannelPort {
  /** Whether channels can be opened right now (a relay connection with a slot). */
  readonly connected: boolean;
  /** A fresh channel id routed to `owner`; undefined while not connected. */
  open(owner: ChannelOwner): number | undefined;
  /** Stops routing a channel to its owner and lets the id be used again later. */
  release(channel: number): void;
  /**
   * Stops routing a channel whose agent went away mid-way; it is closed on the agent once the
   * agent is back on this same connection ({@link ChannelRouter.closeAbandoned}).
   */
  abandon(channel: number): void;
  send(message: ControlMessage): boolean;
  sendFrame(bytes: Uint8Array): boolean;
}

/** Whether a control message carries a channel id. */
export function isChannelMessage(message: ControlMessage): message is ChannelMessage {
  return 'channel' in message && typeof message.channel === 'number';
}

/**
 * Hands out channel ids of this operator connection's slot and routes what the agent sends on
 * them to the tool that opened each. A new relay connection (a reconnect) gets a new slot, so
 * {@link attach} starts afresh; messages for channels nobody owns any more are dropped.
 * @example
 * router.attach({ slot: welcome.slot, send, sendFrame });
 * const channel = router.open({ onChannelMessage: (message) => … });
 */
export class ChannelRouter implements ChannelPort {
  #link: RelayLink | undefined;
  #ids: ChannelIds | undefined;
  readonly #owners = new Map<number, ChannelOwner>();
  readonly #abandoned = new Set<number>();
  /** Messages and frames that arrived for a channel nobody owns (late output of a closed shell). */
  unrouted = 0;

  get connected(): boolean {
    return this.#link !== undefined;
  }

  attach(link: RelayLink): void {
    this.#link = link;
    this.#ids = new ChannelIds(link.slot);
    this.#owners.clear();
    this.#abandoned.clear();
  }

  detach(): void {
    this.#link = undefined;
    this.#ids = undefined;
    this.#owners.clear();
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

  send(message: ControlMessage): boolean {
    return this.#link?.send(message) ?? false;
  }

  sendFrame(bytes: Uint8Array): boolean {
    return this.#link?.sendFrame(bytes) ?? false;
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

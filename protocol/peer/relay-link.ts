import { ChannelIds } from '../channels.ts';
import { CloseCode } from '../close-codes.ts';
import { decodeFrame, encodeControl, type VideoFrame } from '../frames.ts';
import { Heartbeat } from '../heartbeat.ts';
import type { ControlMessage, MessageOf } from '../messages.ts';
import {
  type ChannelFrame,
  type ChannelMessage,
  type ChannelOwner,
  isChannelMessage,
  type RequestOptions,
  type RequestPort,
  requestOnChannel,
} from './channel-request.ts';
import { RelayLinkError } from './link-error.ts';

/** How long the relay has to answer `hello` with `welcome`, counted from the link's creation, in ms. */
export const WELCOME_TIMEOUT_MS = 10_000;

/** `WebSocket.OPEN` in every runtime (the `ws` package has no global to read it from in a browser). */
const OPEN = 1;
const CONNECTING = 0;

/**
 * The part of a WebSocket the link uses: the browser's, Deno's, Node 22's global one and the `ws`
 * package's all fit, so each side passes its own socket (or an in-process stand-in).
 */
export interface LinkSocket {
  readonly readyState: number;
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number }) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
}

export interface RelayLinkClosed {
  code: number;
  /** True when this side closed the link ({@link RelayLink.close}, a welcome timeout, a silent relay). */
  byUs: boolean;
  /** True when the relay answered `hello` with `welcome` before the socket closed. */
  welcomed: boolean;
}

/** What the link hands on; each one left out drops (and counts) what it would have received. */
export interface RelayLinkHandlers {
  /**
   * Every control message except heartbeat echoes and the messages of channels opened on this link
   * ({@link RelayLink.openChannel}): `welcome` and `error` included, and every other channel message
   * (the agent's, or those of a router that outlives one link, as in the console).
   */
  onMessage?(message: ControlMessage): void;
  onVideo?(frame: VideoFrame): void;
  /** File chunks and shell bytes on channels not opened on this link (all of them for the agent). */
  onChannelFrame?(frame: ChannelFrame): void;
  /** A frame that did not decode, and why (it is counted in `malformedFrames` and dropped). */
  onMalformed?(reason: string): void;
  /** Once, when the socket closed or the link gave up on it. */
  onClose?(closed: RelayLinkClosed): void;
}

export interface RelayLinkOptions extends RelayLinkHandlers {
  /** Sent as soon as the socket is open; without it the link waits for no welcome (a peer that needs no hello). */
  hello?: MessageOf<'hello'>;
  /** Default {@link WELCOME_TIMEOUT_MS}. */
  welcomeTimeoutMs?: number;
  /** The channel slot when there is no welcome to give one (a server that speaks channels without a relay). */
  slot?: number;
  /** Where a handler's exception goes (it never takes the socket down); default `console.error`. */
  onHandlerError?(error: unknown): void;
}

interface WelcomeSettlers {
  resolve(welcome: MessageOf<'welcome'>): void;
  reject(error: RelayLinkError): void;
}

/**
 * One participant's connection to the relay, for every runtime: sends `hello` when the socket opens
 * and gives up (code 4000) when no `welcome` comes in time; decodes every frame defensively, counting
 * and dropping what it cannot read; heartbeats the relay when `welcome` asks for it and drops a relay
 * that went silent; hands control messages, video and channel frames to typed handlers; and, given a
 * slot, owns this connection's channel ids and their requests, each with a timeout. When the socket
 * closes every pending request is rejected with a `closed` {@link RelayLinkError}.
 *
 * For transfers and other long channels: {@link openChannel} routes a channel's messages and frames
 * to an owner until {@link releaseChannel}; {@link send} and {@link sendFrame} put messages and encoded
 * frames on the wire.
 * @example
 * const link = new RelayLink(new WebSocket(url), { hello, onMessage, onClose });
 * const welcome = await link.welcomed;
 * const listing = await link.request(
 *   (channel) => ({ type: 'file-list', channel, path: '', offset: 0 }),
 *   (message) => (message.type === 'file-listing' ? message : undefined),
 * );
 */
export class RelayLink {
  /** Resolves with the relay's `welcome`; rejects with a {@link RelayLinkError} (`no-welcome`, `refused`, `closed`). */
  readonly welcomed: Promise<MessageOf<'welcome'>>;
  /** The relay's `welcome`, once it came. */
  welcome: MessageOf<'welcome'> | undefined;
  /** Frames that could not be decoded, or that no handler takes, and were dropped. */
  malformedFrames = 0;
  /** Channel messages and frames nobody takes: no owner and no handler (late output after a close). */
  unrouted = 0;
  readonly #socket: LinkSocket;
  readonly #options: RelayLinkOptions;
  #ids: ChannelIds | undefined;
  readonly #owners = new Map<number, ChannelOwner>();
  #welcomeTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: Heartbeat | undefined;
  #byUs = false;
  #closed = false;
  readonly #settleWelcome: WelcomeSettlers;

  constructor(socket: LinkSocket, options: RelayLinkOptions = {}) {
    this.#socket = socket;
    this.#options = options;
    // Browsers and Deno hand binary messages over as Blobs unless told otherwise; `ws` (Buffers) is fine.
    if (socket.binaryType === 'blob') socket.binaryType = 'arraybuffer';
    if (options.slot !== undefined) this.#ids = new ChannelIds(options.slot);
    let settle: WelcomeSettlers | undefined;
    this.welcomed = new Promise((resolve, reject) => {
      settle = { resolve, reject };
    });
    this.#settleWelcome = settle as WelcomeSettlers;
    // Whoever does not await the welcome learns of a failure through onClose.
    this.welcomed.catch(() => {});
    const hello = options.hello;
    if (hello) {
      const timeoutMs = options.welcomeTimeoutMs ?? WELCOME_TIMEOUT_MS;
      this.#welcomeTimer = setTimeout(() => {
        this.#settleWelcome.reject(
          new RelayLinkError(
            'no-welcome',
            `The relay did not answer within ${Math.round(timeoutMs / 1000)} s.`,
          ),
        );
        this.#giveUp('no welcome');
      }, timeoutMs);
      if (socket.readyState === OPEN) this.send(hello);
      else socket.addEventListener('open', () => this.send(hello));
    }
    socket.addEventListener('message', (event) => this.#receive(event.data));
    socket.addEventListener('close', (event) => this.#finish(event.code));
    // 'error' is always followed by 'close', which settles everything; the `ws` package throws an
    // 'error' nobody listens to (a refused connection would crash the process).
    socket.addEventListener('error', () => {});
  }

  /** Whether the socket is open and messages can be sent. */
  get open(): boolean {
    return this.#socket.readyState === OPEN && !this.#closed;
  }

  /** The slot of this connection's channel ids (`welcome.slot`), when it has one. */
  get slot(): number | undefined {
    return this.welcome?.slot ?? this.#options.slot;
  }

  /** Sends a control message; false when the socket is not open. */
  send(message: ControlMessage): boolean {
    return this.sendFrame(encodeControl(message));
  }

  /** Sends an encoded frame (a file chunk, shell bytes, video); false when the socket is not open. */
  sendFrame(bytes: Uint8Array): boolean {
    if (!this.open) return false;
    this.#socket.send(bytes);
    return true;
  }

  /**
   * A fresh channel id whose messages and frames go to `owner` until {@link releaseChannel};
   * undefined when the link has no slot or is closed. The owner's `onChannelLost` runs when the link closes.
   */
  openChannel(owner: ChannelOwner): number | undefined {
    if (!this.#ids || this.#closed) return undefined;
    const channel = this.#ids.next();
    this.#owners.set(channel, owner);
    return channel;
  }

  /** Stops routing a channel to its owner and lets its id be used again. */
  releaseChannel(channel: number): void {
    this.#owners.delete(channel);
    this.#ids?.release(channel);
  }

  /**
   * Sends one request on a fresh channel and resolves with the first answer `answer` maps to a value
   * ({@link requestOnChannel}); rejects after the timeout, on `channel-error`, and when the link closes.
   */
  request<T>(
    request: (channel: number) => ControlMessage,
    answer: (message: ChannelMessage) => T | undefined,
    options?: RequestOptions,
  ): Promise<T> {
    return requestOnChannel(this.#port, request, answer, options);
  }

  /** Closes the socket on purpose; `onClose` still runs, with `byUs` set. */
  close(code: number = CloseCode.normal, reason = ''): void {
    this.#byUs = true;
    if (this.#socket.readyState === CONNECTING || this.#socket.readyState === OPEN) {
      this.#socket.close(code, reason);
    }
  }

  readonly #port: RequestPort = {
    open: (owner) => this.openChannel(owner),
    release: (channel) => this.releaseChannel(channel),
    send: (message) => this.send(message),
  };

  #receive(data: unknown): void {
    if (this.#closed) return;
    this.#heartbeat?.heard();
    const decoded = data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? decodeFrame(data) : undefined;
    if (!decoded?.ok) {
      this.malformedFrames++;
      this.#options.onMalformed?.(decoded ? decoded.reason : `not a binary frame (${typeof data})`);
      return;
    }
    const frame = decoded.frame;
    try {
      if (frame.kind === 'video') {
        if (this.#options.onVideo) this.#options.onVideo(frame);
        else this.malformedFrames++;
        return;
      }
      if (frame.kind === 'file' || frame.kind === 'shell') {
        this.#routeFrame(frame);
        return;
      }
      this.#receiveMessage(frame.message);
    } catch (error) {
      // A bug in a handler must not take the socket down with it.
      this.#handlerFailed(error);
    }
  }

  #routeFrame(frame: ChannelFrame): void {
    if (this.#options.hello && !this.welcome) {
      this.malformedFrames++; // nothing may travel on channels before the relay admitted us
      return;
    }
    const owner = this.#owners.get(frame.channel);
    if (owner?.onChannelFrame) owner.onChannelFrame(frame);
    else if (!owner && this.#options.onChannelFrame) this.#options.onChannelFrame(frame);
    else this.unrouted++;
  }

  #receiveMessage(message: ControlMessage): void {
    if (message.type === 'heartbeat') return; // the relay's echo: hearing it was the point
    if (message.type === 'welcome') this.#welcomed(message);
    if (message.type === 'error' && !this.welcome && this.#options.hello) {
      clearTimeout(this.#welcomeTimer);
      this.#settleWelcome.reject(
        new RelayLinkError('refused', `The relay refused the connection: ${message.message}`, message.code),
      );
    }
    const owner = isChannelMessage(message) ? this.#owners.get(message.channel) : undefined;
    if (owner && isChannelMessage(message)) owner.onChannelMessage(message);
    else if (this.#options.onMessage) this.#options.onMessage(message);
    else if (isChannelMessage(message)) this.unrouted++;
  }

  #welcomed(welcome: MessageOf<'welcome'>): void {
    if (this.welcome) return;
    this.welcome = welcome;
    clearTimeout(this.#welcomeTimer);
    if (welcome.slot !== undefined) this.#ids = new ChannelIds(welcome.slot);
    if (welcome.heartbeatSeconds) {
      this.#heartbeat = new Heartbeat(
        welcome.heartbeatSeconds * 1000,
        () => this.send({ type: 'heartbeat' }),
        // Closing a silent relay's socket waits for a closing handshake that never comes: give up now.
        () => this.#giveUp('relay silent'),
      );
    }
    this.#settleWelcome.resolve(welcome);
  }

  #handlerFailed(error: unknown): void {
    if (this.#options.onHandlerError) this.#options.onHandlerError(error);
    else console.error('lifeline: a relay link handler failed', error);
  }

  /** Drops a relay that never welcomed or went silent; both count as a lost connection (code 4000). */
  #giveUp(reason: string): void {
    this.close(CloseCode.noWelcome, reason);
    this.#finish(CloseCode.noWelcome);
  }

  #finish(code: number): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#welcomeTimer);
    this.#heartbeat?.stop();
    const error = new RelayLinkError('closed', `The connection to the relay closed (${code}).`);
    this.#settleWelcome.reject(error);
    const owners = [...this.#owners.values()];
    this.#owners.clear();
    for (const owner of owners) {
      try {
        owner.onChannelLost?.(error);
      } catch (failure) {
        this.#handlerFailed(failure);
      }
    }
    this.#options.onClose?.({ code, byUs: this.#byUs, welcomed: this.welcome !== undefined });
  }
}

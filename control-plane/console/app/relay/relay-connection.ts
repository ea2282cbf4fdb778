import {
  CloseCode,
  type ControlMessage,
  decodeFrame,
  encodeControl,
  type FileChunkFrame,
  Heartbeat,
  PROTOCOL_VERSION,
  type ShellDataFrame,
  type VideoFrame,
} from '../../../../protocol/index.ts';
import type { RelayGrant } from '../api/types.ts';

/** How long the relay has to answer `hello` before the console gives up on the socket, in ms. */
const WELCOME_TIMEOUT_MS = 10_000;

/** Identifies the console in `hello`. */
export const CONSOLE_CLIENT = { name: 'lifeline-console', version: '0.1.0' } as const;

export interface RelayCloseInfo {
  code: number;
  /** True when the console itself closed the socket (leaving, ending, navigating away). */
  byUs: boolean;
  /** True when the relay answered `hello` with `welcome` before the socket closed. */
  welcomed: boolean;
}

export interface RelayHandlers {
  onMessage(message: ControlMessage): void;
  onVideo(frame: VideoFrame): void;
  /** File chunks and shell bytes on this operator's channels. */
  onChannelFrame?(frame: FileChunkFrame | ShellDataFrame): void;
  onClose(info: RelayCloseInfo): void;
}

/**
 * The operator's one WebSocket to the relay. Sends `hello` with the relay token as the first
 * message (the token never goes into the URL), decodes every frame defensively and drops what
 * it cannot read.
 * @example
 * const relay = new RelayConnection(grant.relay, { onMessage, onVideo, onClose });
 * relay.send({ type: 'request-keyframe' });
 */
export class RelayConnection {
  readonly #socket: WebSocket;
  readonly #handlers: RelayHandlers;
  #closedByUs = false;
  #welcomed = false;
  #closed = false;
  #welcomeTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: Heartbeat | undefined;
  /** Frames that could not be decoded and were dropped. */
  malformedFrames = 0;

  /** Throws when the URL is not a WebSocket URL or the page may not open it (mixed content). */
  constructor(grant: RelayGrant, handlers: RelayHandlers) {
    const url = new URL(grant.url, location.href);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new Error(`The relay address must start with ws:// or wss://, not ${url.protocol}//.`);
    }
    this.#handlers = handlers;
    this.#socket = new WebSocket(url);
    this.#socket.binaryType = 'arraybuffer';
    this.#socket.addEventListener('open', () => {
      this.send({
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        role: 'operator',
        token: grant.token,
        client: { ...CONSOLE_CLIENT },
      });
      this.#welcomeTimer = setTimeout(() => {
        // A relay that never answers looks like a lost connection to the operator.
        if (!this.#welcomed) this.#socket.close(CloseCode.noWelcome, 'no welcome');
      }, WELCOME_TIMEOUT_MS);
    });
    this.#socket.addEventListener('message', (event) => this.#receive(event.data));
    this.#socket.addEventListener('close', (event) => this.#finish(event.code));
    // 'error' is always followed by 'close', which carries everything the console needs.
  }

  /** Whether the socket is open and messages can be sent. */
  get open(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  /** Sends a control message; returns false when the socket is not open. */
  send(message: ControlMessage): boolean {
    if (this.#socket.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(encodeControl(message));
    return true;
  }

  /** Sends an encoded binary frame (file chunk, shell data); returns false when the socket is not open. */
  sendFrame(bytes: Uint8Array): boolean {
    if (this.#socket.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(bytes);
    return true;
  }

  /** Closes the socket on purpose; `onClose` still runs, with `byUs` set. */
  close(): void {
    this.#closedByUs = true;
    if (this.#socket.readyState === WebSocket.CONNECTING || this.#socket.readyState === WebSocket.OPEN) {
      this.#socket.close(CloseCode.normal, 'operator left');
    }
  }

  #receive(data: unknown): void {
    this.#heartbeat?.heard();
    if (!(data instanceof ArrayBuffer)) {
      this.malformedFrames++;
      return;
    }
    const result = decodeFrame(data);
    if (!result.ok) {
      this.malformedFrames++;
      return;
    }
    try {
      if (result.frame.kind === 'video') {
        this.#handlers.onVideo(result.frame);
        return;
      }
      if (result.frame.kind === 'file' || result.frame.kind === 'shell') {
        this.#handlers.onChannelFrame?.(result.frame);
        return;
      }
      const message = result.frame.message;
      if (message.type === 'heartbeat') return; // the relay's echo: hearing it was the point
      if (message.type === 'welcome') {
        this.#welcomed = true;
        clearTimeout(this.#welcomeTimer);
        if (message.heartbeatSeconds) this.#watchRelay(message.heartbeatSeconds * 1000);
      }
      this.#handlers.onMessage(message);
    } catch (error) {
      // A bug in a handler must not take the socket down with it.
      console.error('lifeline: a relay message handler failed', error);
    }
  }

  /**
   * Heartbeats the relay; one that went silent counts as a lost connection at once (closing its socket
   * waits for a closing handshake that never comes).
   */
  #watchRelay(intervalMs: number): void {
    this.#heartbeat = new Heartbeat(
      intervalMs,
      () => this.send({ type: 'heartbeat' }),
      () => {
        // The same code as a relay that never welcomed: the console treats both as a lost connection.
        this.#socket.close(CloseCode.noWelcome, 'relay silent');
        this.#finish(CloseCode.noWelcome);
      },
    );
  }

  #finish(code: number): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#welcomeTimer);
    this.#heartbeat?.stop();
    this.#handlers.onClose({ code, byUs: this.#closedByUs, welcomed: this.#welcomed });
  }
}

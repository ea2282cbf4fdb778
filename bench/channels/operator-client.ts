import { WebSocket } from 'ws';
import {
  ChannelIds,
  type ControlMessage,
  encodeControl,
  type FileChunkFrame,
  isChannelMessage,
  isRelayLinkError,
  PROTOCOL_VERSION,
  RelayLink,
  type ShellDataFrame,
} from '../../protocol/index.ts';

/** How long the client waits for a connection, a welcome or a channel's answer, in ms. */
export const ANSWER_TIMEOUT_MS = 30_000;

/** What a channel's owner is told about: its control messages and its file or shell frames. */
export interface ChannelListener {
  control(message: ControlMessage): void;
  frame(frame: FileChunkFrame | ShellDataFrame): void;
}

/**
 * An operator's side of the channels, over one WebSocket and the shared {@link RelayLink}: either
 * through the relay (after hello and welcome, with the slot the relay gave) or straight to the
 * baseline server (slot 1). Frames and channel messages go to the listener registered for their
 * channel; other control messages (welcome, consent, chat) are kept for `nextControl`; a malformed
 * frame is remembered as a failure.
 */
export class OperatorClient {
  private channelIds: ChannelIds | undefined;
  private readonly listeners = new Map<number, ChannelListener>();
  /** Control messages outside channels, oldest first, and who waits for one. */
  private readonly events: ControlMessage[] = [];
  private readonly waiters = new Set<() => void>();
  /** Channel frames and messages for no open channel (late output after a close). */
  unclaimed = 0;
  /** Why a frame could not be decoded, for the first one that could not. */
  malformed: string | undefined;
  /** The close code, once the socket closed. */
  closedWith: number | undefined;

  private readonly link: RelayLink;

  private constructor(
    readonly socket: WebSocket,
    hello?: string,
  ) {
    // Listening from the first moment: the relay's consent may come in the same read as its welcome.
    this.link = new RelayLink(socket, {
      ...(hello
        ? {
            hello: {
              type: 'hello',
              protocol: PROTOCOL_VERSION,
              role: 'operator',
              token: hello,
              client: { name: 'lifeline-bench-operator', version: '0.0.0' },
            },
            welcomeTimeoutMs: ANSWER_TIMEOUT_MS,
          }
        : {}),
      onMessage: (message) => this.receive(message),
      onChannelFrame: (frame) => {
        const listener = this.listeners.get(frame.channel);
        if (listener) listener.frame(frame);
        else this.unclaimed++;
      },
      onVideo: () => {},
      onMalformed: (reason) => {
        this.malformed ??= reason;
      },
      onClose: ({ code }) => {
        this.closedWith = code;
        for (const waiter of [...this.waiters]) waiter();
      },
    });
  }

  /** Joins the relay as an operator with a join token from `POST /api/sessions/redeem`. */
  static async viaRelay(url: string, token: string): Promise<OperatorClient> {
    const client = new OperatorClient(await connect(url), token);
    const welcome = await client.link.welcomed.catch((error: unknown) => {
      client.socket.terminate();
      const answer = isRelayLinkError(error, 'refused') ? `${error.code}: ${error.message}` : String(error);
      throw new Error(`the relay did not welcome the operator's hello: ${answer}`);
    });
    if (welcome.slot === undefined) {
      client.socket.terminate();
      throw new Error(
        `the relay welcomed the operator without a slot: ${JSON.stringify(welcome).slice(0, 200)}`,
      );
    }
    client.channelIds = new ChannelIds(welcome.slot);
    return client;
  }

  /** Connects straight to the baseline server, which speaks the channel messages without a relay. */
  static async direct(url: string): Promise<OperatorClient> {
    const client = new OperatorClient(await connect(url));
    client.channelIds = new ChannelIds(1);
    return client;
  }

  /** The channel ids of this connection's slot. */
  get ids(): ChannelIds {
    if (!this.channelIds) throw new Error('the relay has not welcomed this operator yet');
    return this.channelIds;
  }

  /**
   * Resolves with the first control message outside channels that `match` accepts, including one
   * that already arrived; rejects when the socket closes or nothing matches within ANSWER_TIMEOUT_MS.
   */
  nextControl(match: (message: ControlMessage) => boolean, what: string): Promise<ControlMessage> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(match);
        if (found) finish(undefined, found);
        else if (this.closedWith !== undefined)
          finish(new Error(`no ${what}: the socket closed (${this.closedWith})`));
      };
      const finish = (error: Error | undefined, message?: ControlMessage) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (error) reject(error);
        else resolve(message!);
      };
      const timer = setTimeout(
        () => finish(new Error(`no ${what} within ${ANSWER_TIMEOUT_MS} ms`)),
        ANSWER_TIMEOUT_MS,
      );
      this.waiters.add(check);
      check();
    });
  }

  /** Registers the owner of a channel until `release`. */
  claim(channel: number, listener: ChannelListener): void {
    this.listeners.set(channel, listener);
  }

  release(channel: number): void {
    this.listeners.delete(channel);
    this.ids.release(channel);
  }

  send(message: ControlMessage): void {
    this.sendBytes(encodeControl(message));
  }

  sendBytes(bytes: Uint8Array): void {
    if (!this.link.sendFrame(bytes)) {
      throw new Error(`the operator's socket is closed (${this.closedWith ?? 'closing'})`);
    }
  }

  private receive(message: ControlMessage): void {
    if (!isChannelMessage(message)) {
      this.events.push(message);
      for (const waiter of [...this.waiters]) waiter();
      return;
    }
    const listener = this.listeners.get(message.channel);
    if (listener) listener.control(message);
    else this.unclaimed++;
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.terminate();
        resolve();
      }, 2_000);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.close();
    });
  }
}

function connect(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  socket.binaryType = 'nodebuffer';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no connection to ${url} within ${ANSWER_TIMEOUT_MS} ms`));
    }, ANSWER_TIMEOUT_MS);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

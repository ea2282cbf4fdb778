import type { AddressInfo } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import {
  type ControlMessage,
  encodeControl,
  encodeVideo,
  FrameKind,
  NO_PERMISSIONS,
  PROTOCOL_VERSION,
} from '../../protocol/index.ts';
import { type Redemption, type Registration, redeem, register } from '../support/api.ts';
import { nextAgentAddress, nowMs } from '../support/net.ts';

/** How long a synthetic peer waits for the relay's answer to its hello, in ms. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Byte offset of the capture time in a video frame (after kind, flags and sequence). */
const CAPTURE_TIME_OFFSET = 6;

/**
 * One video path from a sender to a receiver: either through the relay (a synthetic agent and a
 * synthetic operator) or a direct loopback WebSocket, the baseline the relay is compared against.
 */
export interface VideoLink {
  /** Sends one video frame of `bytes` payload bytes, stamped with the current time. */
  send(bytes: number): void;
  /** Bytes the sender has queued and not yet written to the network. */
  senderBuffered(): number;
  /** Per received frame: one-way latency in ms (same clock on both ends) and payload bytes. */
  onFrame: ((latencyMs: number, bytes: number) => void) | undefined;
  /** Frames sent and received so far. */
  readonly counts: { sent: number; received: number };
  /** The receiving socket, for tests that make it read slowly. */
  readonly receiver: WebSocket;
  /** Set when the receiver was disconnected (for example by the relay, as too slow). */
  closedWith: number | undefined;
  close(): Promise<void>;
}

/** Every this many frames the sender marks one as a keyframe, as the agent's 2 s GOP at 30 fps does. */
const KEYFRAME_EVERY = 60;

class Sender {
  #sequence = 0;
  #keyframeWanted = true;
  sent = 0;
  /** One reusable payload per size; the relay never looks inside it. */
  #payloads = new Map<number, Uint8Array>();

  constructor(private readonly socket: WebSocket) {}

  wantKeyframe(): void {
    this.#keyframeWanted = true;
  }

  send(bytes: number): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    let data = this.#payloads.get(bytes);
    if (!data) {
      data = new Uint8Array(bytes).fill(0x5a);
      this.#payloads.set(bytes, data);
    }
    const keyframe = this.#keyframeWanted || this.#sequence % KEYFRAME_EVERY === 0;
    this.#keyframeWanted = false;
    this.socket.send(encodeVideo({ keyframe, sequence: this.#sequence++, captureTime: nowMs(), data }));
    this.sent++;
  }
}

function receive(link: VideoLink, data: RawData): boolean {
  const bytes = data as Buffer;
  if (bytes[0] !== FrameKind.video) return false;
  const latency = nowMs() - bytes.readDoubleBE(CAPTURE_TIME_OFFSET);
  link.counts.received++;
  link.onFrame?.(latency, bytes.byteLength - 14);
  return true;
}

function controlOf(data: RawData): ControlMessage | undefined {
  const bytes = data as Buffer;
  if (bytes[0] !== FrameKind.control) return undefined;
  try {
    return JSON.parse(bytes.subarray(1).toString('utf8')) as ControlMessage;
  } catch {
    return undefined;
  }
}

function opened(socket: WebSocket, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no connection`)), HANDSHAKE_TIMEOUT_MS);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${what}: ${error.message}`, { cause: error }));
    });
  });
}

/** Resolves with the first control message that `match` accepts; rejects on error, close or timeout. */
function nextControl(
  socket: WebSocket,
  what: string,
  match: (message: ControlMessage) => boolean,
): Promise<ControlMessage> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error, message?: ControlMessage) => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve(message!);
    };
    const timer = setTimeout(() => done(new Error(`${what}: timed out`)), HANDSHAKE_TIMEOUT_MS);
    const onMessage = (data: RawData) => {
      const message = controlOf(data);
      if (message?.type === 'error') done(new Error(`${what}: ${message.code} ${message.message}`));
      else if (message && match(message)) done(undefined, message);
    };
    const onClose = (code: number) => done(new Error(`${what}: closed with ${code}`));
    socket.on('message', onMessage);
    socket.on('close', onClose);
  });
}

function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.terminate();
      resolve();
    }, 2_000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.close();
  });
}

/** A synthetic agent on the relay with `registration`'s token: its socket, once welcomed. */
export async function joinAsSyntheticAgent(registration: Registration): Promise<WebSocket> {
  const socket = new WebSocket(registration.relay.url);
  socket.binaryType = 'nodebuffer';
  await opened(socket, 'synthetic agent');
  const welcome = nextControl(socket, 'synthetic agent hello', (m) => m.type === 'welcome');
  socket.send(
    encodeControl({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      role: 'agent',
      token: registration.relay.token,
      client: { name: 'lifeline-bench-agent', version: '0.0.0' },
    }),
  );
  await welcome;
  return socket;
}

/**
 * A session through the relay: registers a synthetic agent (from its own loopback address), joins
 * the relay, redeems the code as `cookie`'s operator, joins as that operator, and consents to viewing
 * so the relay forwards video. Answers the relay's keyframe requests as the real agent does.
 */
export async function openRelayLink(baseUrl: string, cookie: string): Promise<VideoLink> {
  const registration: Registration = await register(baseUrl, nextAgentAddress());
  const agentSocket = await joinAsSyntheticAgent(registration);
  const sender = new Sender(agentSocket);
  const joined = nextControl(agentSocket, 'operator-joined', (m) => m.type === 'operator-joined');
  agentSocket.on('message', (data) => {
    if (controlOf(data)?.type === 'request-keyframe') sender.wantKeyframe();
  });

  const redemption: Redemption = await redeem(baseUrl, cookie, registration.code);
  const operatorSocket = new WebSocket(redemption.relay.url);
  operatorSocket.binaryType = 'nodebuffer';
  await opened(operatorSocket, 'synthetic operator');
  const operatorWelcome = nextControl(
    operatorSocket,
    'synthetic operator hello',
    (m) => m.type === 'welcome',
  );
  operatorSocket.send(
    encodeControl({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      role: 'operator',
      token: redemption.relay.token,
      client: { name: 'lifeline-bench-operator', version: '0.0.0' },
    }),
  );
  await operatorWelcome;
  await joined;
  const consented = nextControl(operatorSocket, 'consent', (m) => m.type === 'consent');
  agentSocket.send(
    encodeControl({
      type: 'consent',
      accepted: true,
      permissions: { ...NO_PERMISSIONS, view: true },
    }),
  );
  await consented;

  const link: VideoLink = {
    send: (bytes) => sender.send(bytes),
    senderBuffered: () => agentSocket.bufferedAmount,
    onFrame: undefined,
    counts: {
      get sent() {
        return sender.sent;
      },
      received: 0,
    },
    receiver: operatorSocket,
    closedWith: undefined,
    async close() {
      await Promise.all([closeSocket(operatorSocket), closeSocket(agentSocket)]);
    },
  };
  operatorSocket.on('message', (data) => receive(link, data));
  operatorSocket.on('close', (code) => {
    link.closedWith = code;
  });
  return link;
}

/** A loopback WebSocket server standing in for the relay's far end in the direct baseline. */
export interface DirectServer {
  /** Opens one direct link: a client that sends, and the server's socket that receives. */
  open(): Promise<VideoLink>;
  close(): Promise<void>;
}

/** Starts the baseline: the same `ws` library on both ends and nothing in between. */
export async function startDirectServer(): Promise<DirectServer> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const waiting: Array<(socket: WebSocket) => void> = [];
  server.on('connection', (socket) => waiting.shift()?.(socket));
  return {
    async open() {
      const accepted = new Promise<WebSocket>((resolve) => waiting.push(resolve));
      const client = new WebSocket(`ws://127.0.0.1:${port}`);
      await opened(client, 'direct link');
      const receiver = await accepted;
      receiver.binaryType = 'nodebuffer';
      const sender = new Sender(client);
      const link: VideoLink = {
        send: (bytes) => sender.send(bytes),
        senderBuffered: () => client.bufferedAmount,
        onFrame: undefined,
        counts: {
          get sent() {
            return sender.sent;
          },
          received: 0,
        },
        receiver,
        closedWith: undefined,
        async close() {
          await Promise.all([closeSocket(client), closeSocket(receiver)]);
        },
      };
      receiver.on('message', (data) => receive(link, data));
      return link;
    },
    async close() {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

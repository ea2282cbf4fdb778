import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  type ControlMessage,
  DEFAULT_POLICY,
  decodeFrame,
  encodeControl,
  encodeVideo,
  type FileChunkFrame,
  type MessageOf,
  type ShellDataFrame,
} from '../../protocol/index.ts';
import { consoleBundle } from '../support/console-bundle.ts';
import type { AccessUnit } from './h264-fixture.ts';

/** The relay token the fake hands out; the tests check it never shows up where it must not. */
export const RELAY_TOKEN = 'relay-token-secret-7f3a9c';
export const OPERATOR = {
  id: 'op-1',
  username: 'alice',
  name: 'Alice Operator',
  role: 'technician',
  organisationId: 'org-1',
  disabled: false,
  totpEnabled: false,
  createdAt: '2025-01-01T00:00:00.000Z',
};
/** What a technician may do, as `GET /api/auth/me` says. */
export const OPERATOR_SCOPES = ['sessions:read', 'sessions:write', 'exec', 'files', 'groups:read'];

export interface JsonReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RecordedRequest {
  method: string;
  url: string;
  body: unknown;
}

type Route = (request: RecordedRequest) => JsonReply;

/** One operator socket on the fake relay. */
export class RelayPeer {
  readonly messages: ControlMessage[] = [];
  /** File chunks and shell bytes the console sent, in order. */
  readonly frames: Array<FileChunkFrame | ShellDataFrame> = [];
  /** Called with every control message and channel frame as it arrives (a scripted agent). */
  onReceive: ((item: ControlMessage | FileChunkFrame | ShellDataFrame) => void) | undefined;
  /** Called once when the connection closes or drops (a scripted agent ends its channels). */
  onClose: (() => void) | undefined;
  readonly #socket: WebSocket;
  readonly #waiters = new Set<() => void>();
  #closed = false;
  #sequence = 0;

  constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data: Buffer) => {
      const result = decodeFrame(data);
      if (result.ok && result.frame.kind === 'control') {
        this.messages.push(result.frame.message);
        this.onReceive?.(result.frame.message);
      } else if (result.ok && (result.frame.kind === 'file' || result.frame.kind === 'shell')) {
        // A copy: the frame is a view into the whole WebSocket message.
        const frame = { ...result.frame, data: result.frame.data.slice() };
        this.frames.push(frame);
        this.onReceive?.(frame);
      }
      for (const wake of this.#waiters) wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.onClose?.();
      for (const wake of this.#waiters) wake();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(message: ControlMessage): void {
    this.#socket.send(encodeControl(message));
  }

  /** Sends an already encoded frame (a file chunk or shell bytes from `encodeFileChunk`/`encodeShellData`). */
  sendRaw(bytes: Uint8Array): void {
    this.#socket.send(bytes);
  }

  /** Resolves once `ready()` holds, checked after every frame that arrives, or rejects after `timeoutMs`. */
  until<T>(what: string, ready: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = ready();
        if (value !== undefined && value !== false) {
          cleanup();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${what} did not happen within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  sendVideo(unit: AccessUnit): void {
    this.#socket.send(
      encodeVideo({
        keyframe: unit.keyframe,
        sequence: this.#sequence++,
        captureTime: Date.now(),
        data: unit.data,
      }),
    );
  }

  /** Resolves with the first message (from the start) that matches, or rejects after `timeoutMs`. */
  waitFor<T extends ControlMessage['type']>(
    type: T,
    match: (message: MessageOf<T>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<MessageOf<T>> {
    const find = () =>
      this.messages.find(
        (message): message is MessageOf<T> => message.type === type && match(message as MessageOf<T>),
      );
    return this.until(`a ${type} message`, find, timeoutMs).catch((error: Error) => {
      throw new Error(`${error.message}; got ${JSON.stringify(this.messages)}`);
    });
  }

  /** Closes the connection with a close code, as the relay does (1012 when the control plane restarts). */
  closeWith(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }

  /** Drops the connection without a closing handshake, as a crashed relay would. */
  drop(): void {
    this.#socket.terminate();
  }
}

/**
 * A stand-in for the control plane: serves the real console bundle with a strict CSP, answers the
 * HTTP API with canned JSON (any route can be replaced per test) and runs a WebSocket "relay"
 * whose operator sockets the test drives by hand.
 */
/** The console files this plane serves (the video worker is optional: without it, decoding stays on the page). */
export interface ConsoleAssetFiles {
  js: string;
  css: string;
  videoWorker?: string;
}

export class FakeControlPlane {
  readonly requests: RecordedRequest[] = [];
  readonly peers: RelayPeer[] = [];
  readonly routes = new Map<string, Route>();
  url = '';
  activeSessions: unknown[] = [];
  #signedIn = false;
  #server = createServer((request, response) => void this.#handle(request, response));
  #relay = new WebSocketServer({ server: this.#server, path: '/relay' });
  #peerWaiters = new Set<() => void>();
  #assets: ConsoleAssetFiles | undefined;

  /** Starts on a free loopback port; pass `assets` to reuse one bundle across many planes. */
  static async start(assets?: ConsoleAssetFiles): Promise<FakeControlPlane> {
    const plane = new FakeControlPlane();
    plane.#assets = assets ?? consoleBundle();
    plane.#relay.on('connection', (socket) => {
      plane.peers.push(new RelayPeer(socket));
      for (const wake of plane.#peerWaiters) wake();
    });
    await new Promise<void>((resolve) => plane.#server.listen(0, '127.0.0.1', resolve));
    plane.url = `http://127.0.0.1:${(plane.#server.address() as AddressInfo).port}`;
    plane.#defaultRoutes();
    return plane;
  }

  session(status: 'waiting' | 'active' = 'waiting') {
    return {
      id: 'sess-1',
      status,
      // This operator's own session: the list offers Rejoin.
      operatorId: OPERATOR.id,
      createdAt: new Date(Date.now() - 4 * 60_000).toISOString(),
      endedAt: null,
      endReason: null,
      agent: {
        name: 'lifeline-agent',
        version: '0.1.0',
        hostname: 'desk-42',
        os: 'Ubuntu 24.04',
        user: 'bob',
        screen: { width: 320, height: 240 },
      },
    };
  }

  group() {
    return {
      id: 'group-1',
      organisationId: 'org-1',
      name: 'Default',
      isDefault: true,
      hasRegistrationKey: false,
      policy: { ...DEFAULT_POLICY },
      createdAt: '2025-01-01T00:00:00.000Z',
    };
  }

  grant() {
    return {
      session: this.session(),
      relay: { url: `${this.url.replace('http', 'ws')}/relay`, token: RELAY_TOKEN },
    };
  }

  #defaultRoutes(): void {
    this.routes.set('GET /api/auth/me', () =>
      this.#signedIn
        ? { status: 200, body: { operator: OPERATOR, via: 'operator', scopes: OPERATOR_SCOPES } }
        : problem(401, 'UNAUTHENTICATED', 'Sign in.'),
    );
    this.routes.set('POST /api/auth/login', () => {
      this.#signedIn = true;
      return {
        status: 200,
        body: { operator: OPERATOR },
        headers: { 'Set-Cookie': 'sid=x; HttpOnly; Path=/' },
      };
    });
    this.routes.set('POST /api/auth/logout', () => {
      this.#signedIn = false;
      return { status: 204 };
    });
    this.routes.set('POST /api/sessions/redeem', () => ({ status: 200, body: this.grant() }));
    this.routes.set('POST /api/sessions/sess-1/join', () => ({ status: 200, body: this.grant() }));
    this.routes.set('POST /api/sessions/sess-1/end', () => ({
      status: 200,
      body: { ...this.session('active'), status: 'ended', endReason: 'operator-ended' },
    }));
    this.routes.set('GET /api/sessions?status=active', () => ({
      status: 200,
      body: { items: this.activeSessions, nextCursor: null },
    }));
    this.routes.set('GET /api/groups', () => ({
      status: 200,
      body: { items: [this.group()], nextCursor: null },
    }));
    this.routes.set('GET /api/organisations', () => ({
      status: 200,
      body: {
        items: [{ id: 'org-1', name: 'Example Ltd', createdAt: '2025-01-01T00:00:00.000Z' }],
        nextCursor: null,
      },
    }));
  }

  /** The relay socket opened after `count` earlier ones. */
  async peer(index: number, timeoutMs = 5000): Promise<RelayPeer> {
    const deadline = Date.now() + timeoutMs;
    while (!this.peers[index]) {
      if (Date.now() > deadline) throw new Error(`relay connection ${index} did not arrive`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#peerWaiters.delete(wake);
          resolve();
        };
        this.#peerWaiters.add(wake);
        setTimeout(wake, 100);
      });
    }
    return this.peers[index];
  }

  async stop(): Promise<void> {
    for (const client of this.#relay.clients) client.terminate();
    await new Promise<void>((resolve) => this.#relay.close(() => resolve()));
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      body: text ? JSON.parse(text) : undefined,
    };
    this.requests.push(recorded);
    const security = {
      'Content-Security-Policy': `default-src 'self'; connect-src 'self' ${this.url.replace('http', 'ws')}`,
      'Cache-Control': 'no-store',
    };
    if (recorded.url === '/') {
      response
        .writeHead(200, { ...security, 'Content-Type': 'text/html; charset=utf-8' })
        .end(consoleBundle().html);
      return;
    }
    const asset = {
      '/assets/console.js': this.#assets?.js,
      '/assets/console.css': this.#assets?.css,
      '/assets/video-worker.js': this.#assets?.videoWorker,
    }[recorded.url];
    if (asset !== undefined) {
      const js = recorded.url.endsWith('.js');
      response
        .writeHead(200, { ...security, 'Content-Type': js ? 'text/javascript' : 'text/css' })
        .end(asset);
      return;
    }
    const route = this.routes.get(`${recorded.method} ${recorded.url}`);
    const reply = route ? route(recorded) : problem(404, 'NOT_FOUND', `No route ${recorded.url}`);
    const isProblem = reply.status >= 400;
    response.writeHead(reply.status, {
      ...security,
      'Content-Type': isProblem ? 'application/problem+json' : 'application/json',
      ...reply.headers,
    });
    response.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
  }
}

/** An `application/problem+json` reply as the real control plane sends it. */
export function problem(
  status: number,
  code: string,
  detail: string,
  headers?: Record<string, string>,
): JsonReply {
  return { status, body: { type: 'about:blank', title: code, status, code, detail }, headers };
}

/**
 * Sends what the relay sends when an agent accepts at once: consent, who is in the session (this
 * console alone, in control, on `slot`), the video configuration.
 */
export function acceptAndConfigure(
  peer: RelayPeer,
  permissions: MessageOf<'consent'>['permissions'],
  video: { width: number; height: number },
  slot = 1,
): void {
  peer.send({ type: 'consent', accepted: true, permissions });
  peer.send({ type: 'participants', operators: [{ slot, id: 'op-1', name: 'Operator' }], controlSlot: slot });
  peer.send({
    type: 'video-config',
    codec: 'avc1.42E01F',
    width: video.width,
    height: video.height,
    framerate: 10,
  });
}

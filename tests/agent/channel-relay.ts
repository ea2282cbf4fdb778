import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'node:test';
import { type WebSocket, WebSocketServer } from 'ws';
import { AgentSession, type AgentSessionOptions } from '../../agent/core/agent-session.ts';
import type { ChatLine, InputSink, ScreenSource, UserInterface } from '../../agent/core/ports.ts';
import { createNodeFileHost } from '../../agent/files/node-file-host.ts';
import { installWebSocket } from '../../agent/node/websocket.ts';
import { createCommandHost } from '../../agent/shell/command-host.ts';
import { LiveProcesses } from '../../agent/shell/live-processes.ts';
import { createPtyShellHost } from '../../agent/shell/pty-shell-host.ts';
import {
  ALL_PERMISSIONS,
  type ControlMessage,
  type ControlMessageType,
  channelId,
  decodeFrame,
  encodeControl,
  type FileChunkFrame,
  type Frame,
  type MessageOf,
  type Permissions,
  PROTOCOL_VERSION,
  type ShellDataFrame,
} from '../../protocol/index.ts';

/** How long a test waits for something the agent should do soon, in milliseconds. Generous on purpose. */
export const WAIT_MS = 20_000;

/**
 * A relay in the test: it welcomes the agent and lets the test speak for operators, with none of the
 * real relay's checks, so every check seen here is the agent's own.
 */
export class ChannelRelay {
  readonly received: Frame[] = [];
  hello: MessageOf<'hello'> | undefined;
  private agent: WebSocket | undefined;
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly server: WebSocketServer) {
    server.on('connection', (socket) => {
      this.agent = socket;
      socket.on('message', (data: Buffer) => {
        const decoded = decodeFrame(new Uint8Array(data));
        if (!decoded.ok) throw new Error(`the agent sent a malformed frame: ${decoded.reason}`);
        const frame = decoded.frame;
        if (frame.kind === 'control' && frame.message.type === 'hello') {
          this.hello = frame.message;
          socket.send(encodeControl({ type: 'welcome', protocol: PROTOCOL_VERSION, sessionId: 'test' }));
        }
        this.received.push(frame);
        for (const listener of [...this.listeners]) listener();
      });
    });
  }

  static async start(): Promise<ChannelRelay> {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    return new ChannelRelay(server);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  send(message: ControlMessage): void {
    this.agent?.send(encodeControl(message));
  }

  /** Asks the agent to run `command` on `channel`: WAIT_MS and 100 bytes of output unless `options` say otherwise. */
  exec(
    channel: number,
    command: string,
    options: { cwd?: string; timeoutMs?: number; maxOutputBytes?: number } = {},
  ): void {
    this.send({ type: 'exec', channel, command, timeoutMs: WAIT_MS, maxOutputBytes: 100, ...options });
  }

  sendBytes(bytes: Uint8Array): void {
    this.agent?.send(bytes);
  }

  /** Stops reading from the agent, as a relay behind a slow link would, until `resume`. */
  pause(): void {
    this.agent?.pause();
  }

  resume(): void {
    this.agent?.resume();
  }

  /** Cuts the agent's connection without a close handshake, as a network failure would. */
  drop(): void {
    this.agent?.terminate();
  }

  /** Says an operator joined on `slot` (1 unless given) and waits for the user's consent. */
  async join(slot = 1, name = 'Dana'): Promise<MessageOf<'consent'>> {
    const before = this.messages('consent').length;
    this.send({
      type: 'operator-joined',
      operator: { id: `op-${slot}`, name },
      requested: ALL_PERMISSIONS,
      slot,
    });
    return this.next('consent', before);
  }

  messages<T extends ControlMessageType>(type: T, channel?: number): MessageOf<T>[] {
    return this.received
      .filter((frame): frame is Frame & { kind: 'control' } => frame.kind === 'control')
      .map((frame) => frame.message)
      .filter((message): message is MessageOf<T> => message.type === type)
      .filter((message) => channel === undefined || ('channel' in message && message.channel === channel));
  }

  /** Waits for the `index`-th message of a type (on a channel, if given). */
  async next<T extends ControlMessageType>(type: T, index = 0, channel?: number): Promise<MessageOf<T>> {
    await this.until(() => this.messages(type, channel).length > index, `a "${type}" message`);
    return this.messages(type, channel)[index]!;
  }

  /** The first of `types` to arrive on a channel. */
  async reply(channel: number, ...types: ControlMessageType[]): Promise<ControlMessage> {
    const find = () =>
      this.received.find(
        (frame) =>
          frame.kind === 'control' &&
          types.includes(frame.message.type) &&
          'channel' in frame.message &&
          frame.message.channel === channel,
      );
    await this.until(() => find() !== undefined, `one of ${types.join(', ')} on channel ${channel}`);
    return (find() as Frame & { kind: 'control' }).message;
  }

  shellFrames(channel: number): ShellDataFrame[] {
    return this.received.filter((f): f is ShellDataFrame => f.kind === 'shell' && f.channel === channel);
  }

  /** Everything a channel's stream carried so far, as text. */
  output(channel: number, stream: number): string {
    const chunks = this.shellFrames(channel).filter((frame) => frame.stream === stream);
    return Buffer.concat(chunks.map((frame) => frame.data)).toString();
  }

  fileChunks(channel: number): FileChunkFrame[] {
    return this.received.filter((f): f is FileChunkFrame => f.kind === 'file' && f.channel === channel);
  }

  /** Waits until `condition` holds, re-checking on every frame the agent sends. */
  until(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms; last frames: ${this.describe()}`));
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  /** Calls `listener` on every frame from now on. */
  onFrame(listener: () => void): void {
    this.listeners.add(listener);
  }

  describe(): string {
    return this.received
      .slice(-12)
      .map((frame) =>
        frame.kind === 'control'
          ? JSON.stringify(frame.message).slice(0, 200)
          : `${frame.kind}#${'channel' in frame ? frame.channel : ''}`,
      )
      .join(', ');
  }

  close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The end user: answers consent with `permissions`, and keeps every status line and chat message. */
export class RecordingUser implements UserInterface {
  readonly statuses: string[] = [];
  readonly chats: ChatLine[] = [];
  constructor(private readonly permissions: Permissions = ALL_PERMISSIONS) {}
  showCode(): void {}
  async askConsent() {
    return { accepted: true, permissions: { ...this.permissions } };
  }
  status(text: string): void {
    this.statuses.push(text);
  }
  permissionsChanged(): void {}
  ended(): void {}
  chatReceived(message: ChatLine): void {
    this.chats.push(message);
  }
}

const noScreen: ScreenSource = { start: async () => ({ stop: async () => {}, requestKeyframe: () => {} }) };
const noInput: InputSink = { apply: () => {}, releaseAll: () => {} };

export interface TestAgent {
  session: AgentSession;
  relay: ChannelRelay;
  user: RecordingUser;
  /** The shared folder: a fresh temporary folder (real path). */
  root: string;
  live: LiveProcesses;
  /** The channel id `n` of operator slot `slot` (default 1). */
  channel(n: number, slot?: number): number;
  stop(): Promise<void>;
}

/**
 * A real AgentSession with the real Node hosts (node-pty, child_process, node:fs) sharing a fresh
 * temporary folder, connected to a ChannelRelay, with one operator joined and consent given.
 */
export async function startAgent(
  options: {
    permissions?: Permissions;
    hosts?: 'all' | 'none';
    join?: boolean;
  } & Partial<AgentSessionOptions> = {},
): Promise<TestAgent> {
  await installWebSocket();
  const relay = await ChannelRelay.start();
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'lifeline-share-')));
  const live = new LiveProcesses();
  const user = new RecordingUser(options.permissions);
  const hosts =
    options.hosts === 'none'
      ? {}
      : {
          shells: createPtyShellHost({ root, live }),
          commands: createCommandHost({ root, live }),
          files: createNodeFileHost(root),
        };
  const session = new AgentSession({
    relayUrl: relay.url,
    token: 't',
    client: { name: 'test-agent', version: '0' },
    ui: user,
    screen: noScreen,
    input: noInput,
    ...hosts,
    ...options,
  });
  await session.connect();
  if (options.join !== false) await relay.join();
  return {
    session,
    relay,
    user,
    root,
    live,
    channel: (n, slot = 1) => channelId(slot, n),
    async stop() {
      await session.end();
      live.stopAll();
      await relay.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Registers an `afterEach` in the calling `describe` that stops the agent each test started with
 * `start` (or handed over with `stopAfter`); a test's earlier agent is stopped when it starts another.
 * @example
 * const agents = useTestAgent();
 * it('…', async () => { const agent = await agents.start({ join: false }); … });
 */
export function useTestAgent() {
  let current: TestAgent | undefined;
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });
  const stopAfter = (agent: TestAgent): TestAgent => {
    current = agent;
    return agent;
  };
  return {
    stopAfter,
    async start(options?: Parameters<typeof startAgent>[0]): Promise<TestAgent> {
      await current?.stop();
      current = undefined;
      return stopAfter(await startAgent(options));
    },
  };
}

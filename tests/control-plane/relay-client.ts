import { after, before } from 'node:test';
import WebSocket from 'ws';
import {
  CloseCode,
  type ControlMessage,
  type ControlMessageType,
  type FileChunkFrame,
  type Frame,
  type MessageOf,
  type PeerInfo,
  type Permissions,
  PROTOCOL_VERSION,
  RelayLink,
  type ShellDataFrame,
} from '../../protocol/index.ts';
import {
  type ApiClient,
  type AuditEvent,
  type Credentials,
  expectJson,
  type Page,
  postRedeem,
  registeredAgent,
} from '../support/api.ts';
import {
  loginCookie,
  registerAgent,
  type StartOptions,
  startControlPlane,
  type TestControlPlane,
} from '../support/control-plane.ts';
import { waitFor } from '../support/processes.ts';
import { started } from '../support/started.ts';

/** How long a test waits for something the relay should do at once, in milliseconds. Generous on purpose. */
export const WAIT_MS = 5_000;

/** One frame as a client received it. Video data is kept only when the client was asked to keep it. */
export interface Received {
  frame: Frame | undefined;
  /** Why the frame did not decode, when it did not. */
  reason: string | undefined;
}

export interface Closed {
  code: number;
  /** The close frame's reason; empty when the link gave up on the socket itself. */
  reason: string;
}

/** Who a test's participant says it is in its `hello`. */
export interface HelloAs {
  role: 'agent' | 'operator';
  token: string;
  /** Default PROTOCOL_VERSION. */
  protocol?: number;
  /** Default a test agent on Linux, or a test console. */
  client?: PeerInfo;
}

/** The `hello` a test's agent or operator sends. */
export function helloMessage({
  role,
  token,
  protocol = PROTOCOL_VERSION,
  client,
}: HelloAs): MessageOf<'hello'> {
  return {
    type: 'hello',
    protocol,
    role,
    token,
    client:
      client ??
      (role === 'agent'
        ? { name: 'test-agent', version: '0.0.0', os: 'linux' }
        : { name: 'test', version: '0' }),
  };
}

/**
 * A test's participant on the relay: a real `ws` socket under the protocol's {@link RelayLink}, the
 * same client the console, the agent, the API participant and the benchmark use (hello and welcome,
 * defensive decoding, heartbeat, close). It records every frame the link hands on, so a test can
 * wait for it; every waiting method fails with a list of what did arrive, so a failing test says why.
 *
 * Connected with `hello` it is a normal client: the link says hello and waits for the welcome.
 * Without, the test speaks first itself ({@link hello}: a chosen protocol version, role or peer
 * info), and {@link sendBytes} puts exact bytes on the socket past the link: the relay's tests must
 * send malformed and hostile frames that no real client would.
 */
export class RelayClient {
  /** Every frame received, in order (the relay's heartbeat echoes are the link's). */
  readonly received: Received[] = [];
  readonly closed: Promise<Closed>;
  readonly link: RelayLink;
  private closedWith: Closed | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly receivers: ((item: Received) => void)[] = [];

  private constructor(
    readonly ws: WebSocket,
    keepVideoData: boolean,
    hello: MessageOf<'hello'> | undefined,
  ) {
    let settle: (closed: Closed) => void = () => {};
    this.closed = new Promise((resolve) => {
      settle = resolve;
    });
    // The link reports the code only; this listener, added first, runs before the link's.
    let reason = '';
    ws.on('close', (_code, why) => {
      reason = why.toString();
    });
    this.link = new RelayLink(ws, {
      ...(hello ? { hello } : {}),
      onMessage: (message) => this.record({ kind: 'control', message }),
      onVideo: (frame) => this.record(keepVideoData ? frame : { ...frame, data: new Uint8Array(0) }),
      onChannelFrame: (frame) => this.record(frame),
      onMalformed: (reason) => this.record(undefined, reason),
      onClose: ({ code }) => {
        this.closedWith = { code, reason };
        settle(this.closedWith);
        this.notify();
      },
    });
  }

  /**
   * Opens a socket to the relay. Rejects with the HTTP status when the upgrade is refused.
   * @param options.hello who to say hello as once the socket is open (a normal client); without it
   *   the test sends its own {@link hello}.
   * @param options.keepVideoData false to record only the headers of video frames (for volume tests).
   */
  static connect(
    url: string,
    options: {
      hello?: HelloAs;
      origin?: string;
      keepVideoData?: boolean;
      headers?: Record<string, string>;
    } = {},
  ): Promise<RelayClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        perMessageDeflate: false,
        ...(options.origin ? { origin: options.origin } : {}),
        ...(options.headers ? { headers: options.headers } : {}),
      });
      const hello = options.hello ? helloMessage(options.hello) : undefined;
      const client = new RelayClient(ws, options.keepVideoData ?? true, hello);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_request, response) => {
        reject(new UpgradeRefused(response.statusCode ?? 0));
        response.resume();
        ws.terminate();
      });
      ws.once('error', (error) => reject(error));
    });
  }

  send(message: ControlMessage): void {
    this.link.send(message);
  }

  /**
   * Sends exact bytes (a string, a malformed or a foreign frame included) straight on the socket, not
   * through the link, and resolves once they are written.
   */
  sendBytes(bytes: Uint8Array | string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.ws.send(bytes, (error) => (error ? reject(error) : resolve())),
    );
  }

  /** Says hello by hand, for a client connected without `hello` (see {@link connect}). */
  hello(role: 'agent' | 'operator', token: string, protocol = PROTOCOL_VERSION, client?: PeerInfo): void {
    this.send(helloMessage({ role, token, protocol, ...(client ? { client } : {}) }));
  }

  /** Control messages of one type received so far. */
  messages<T extends ControlMessageType>(type: T): MessageOf<T>[] {
    return this.received
      .map((item) => item.frame)
      .filter((frame): frame is Frame & { kind: 'control' } => frame?.kind === 'control')
      .map((frame) => frame.message)
      .filter((message): message is MessageOf<T> => message.type === type);
  }

  /** Video frames received so far. */
  videos(): Received[] {
    return this.received.filter((item) => item.frame?.kind === 'video');
  }

  /** File chunks (kind 0x03) received so far. */
  fileChunks(): FileChunkFrame[] {
    return this.received
      .map((item) => item.frame)
      .filter((frame): frame is FileChunkFrame => frame?.kind === 'file');
  }

  /** Shell and command bytes (kind 0x04) received so far. */
  shellData(): ShellDataFrame[] {
    return this.received
      .map((item) => item.frame)
      .filter((frame): frame is ShellDataFrame => frame?.kind === 'shell');
  }

  /** Waits for the `index`-th (0-based) control message of a type. */
  async next<T extends ControlMessageType>(type: T, index = 0, timeoutMs = WAIT_MS): Promise<MessageOf<T>> {
    await this.until(() => this.messages(type).length > index, `a "${type}" message`, timeoutMs);
    return this.messages(type)[index]!;
  }

  /** Waits until `condition` holds, re-checking on every frame and on close. */
  until(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (condition()) {
          finish();
          resolve();
        } else if (this.closedWith) {
          finish();
          reject(new Error(`socket closed (${this.closedWith.code}) before ${what}; got ${this.describe()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${timeoutMs} ms; got ${this.describe()}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  /** Waits for the socket to close, failing the test if it does not. */
  async waitClosed(timeoutMs = WAIT_MS): Promise<Closed> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Closes the socket (forcibly if the close handshake does not finish) and waits for it. */
  async close(): Promise<void> {
    if (this.closedWith) return;
    this.link.close(CloseCode.normal);
    const timer = setTimeout(() => this.ws.terminate(), 1_000);
    await this.closed;
    clearTimeout(timer);
  }

  describe(): string {
    const items = this.received.map((item) => {
      if (!item.frame) return `malformed(${item.reason})`;
      if (item.frame.kind === 'video') return `video#${item.frame.sequence}${item.frame.keyframe ? 'K' : ''}`;
      if (item.frame.kind === 'file') return `file#${item.frame.channel}@${item.frame.offset}`;
      if (item.frame.kind === 'shell') return `shell#${item.frame.channel}/${item.frame.stream}`;
      return JSON.stringify(item.frame.message);
    });
    return `[${items.slice(-20).join(', ')}]${this.closedWith ? ` closed ${this.closedWith.code}` : ''}`;
  }

  /** Calls `receiver` with every frame received from now on, once it is recorded. */
  onReceived(receiver: (item: Received) => void): void {
    this.receivers.push(receiver);
  }

  private record(frame: Frame | undefined, reason?: string): void {
    const item = { frame, reason };
    this.received.push(item);
    for (const receiver of this.receivers) receiver(item);
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** An upgrade the server answered with an HTTP status instead of a socket. */
export class UpgradeRefused extends Error {
  override readonly name = 'UpgradeRefused';
  constructor(readonly status: number) {
    super(`upgrade refused with HTTP ${status}`);
  }
}

export function relayUrl(cp: TestControlPlane): string {
  return `${cp.url.replace(/^http/, 'ws')}/ws`;
}

/** An agent as the real one starts: registration over HTTP, then a socket and a hello. */
export async function connectAgent(
  cp: TestControlPlane,
  options: { keepVideoData?: boolean; client?: PeerInfo } = {},
) {
  const registration = await registerAgent(cp.app);
  const hello = {
    role: 'agent',
    token: registration.relay.token,
    ...(options.client ? { client: options.client } : {}),
  } as const;
  const agent = await RelayClient.connect(registration.relay.url, { ...options, hello });
  const welcome = await agent.next('welcome');
  return { agent, registration, welcome };
}

/** Redeems a code over the API, as the console does, and returns the relay grant. */
export async function redeem(cp: TestControlPlane, code: string, cookie?: string) {
  const response = await cp.app.request('/api/sessions/redeem', {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: cookie ?? (await loginCookie(cp.app)) },
    body: JSON.stringify({ code }),
  });
  if (response.status !== 200) throw new Error(`redeem failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as { session: { id: string }; relay: { url: string; token: string } };
}

/** An operator joining through the console's path: redeem the code, open the socket, say hello. */
export async function connectOperator(
  cp: TestControlPlane,
  code: string,
  options: { keepVideoData?: boolean; cookie?: string } = {},
) {
  const grant = await redeem(cp, code, options.cookie);
  const hello = { role: 'operator', token: grant.relay.token } as const;
  const operator = await RelayClient.connect(grant.relay.url, { ...options, hello });
  const welcome = await operator.next('welcome');
  return { operator, grant, welcome };
}

/** A further operator joining a session whose code was already redeemed (POST /api/sessions/{id}/join). */
export async function joinOperator(cp: TestControlPlane, sessionId: string, cookie?: string) {
  const response = await cp.app.request(`/api/sessions/${sessionId}/join`, {
    method: 'POST',
    headers: { cookie: cookie ?? (await loginCookie(cp.app)) },
  });
  if (response.status !== 200) throw new Error(`join failed: ${response.status} ${await response.text()}`);
  const grant = (await response.json()) as { relay: { url: string; token: string } };
  const operator = await RelayClient.connect(grant.relay.url, {
    hello: { role: 'operator', token: grant.relay.token },
  });
  const welcome = await operator.next('welcome');
  return { operator, welcome };
}

/**
 * An agent and an operator who joined with its code; the end user answered with `consent` unless
 * 'unanswered'. The sockets are the caller's to close.
 */
export async function consentedSession(
  cp: TestControlPlane,
  cookie: string,
  consent: Permissions | 'unanswered',
) {
  const { agent, registration } = await connectAgent(cp);
  const { operator, welcome } = await connectOperator(cp, registration.code, { cookie });
  await agent.next('operator-joined');
  if (consent !== 'unanswered') {
    agent.send({ type: 'consent', accepted: true, permissions: consent });
    await operator.next('consent');
  }
  return { agent, operator, welcome, registration };
}

/**
 * A session of the group `registrationKey` enrols into: the agent on the relay (registered from an
 * address of its own), an operator `who` joined through the console's path, and the agent's consent
 * claiming `permissions`. Each socket is pushed to `sockets` as it opens, for the caller to close.
 */
export async function pairInGroup(
  api: ApiClient,
  who: Credentials,
  registrationKey: string,
  permissions: Permissions,
  sockets: RelayClient[],
) {
  const grant = await registeredAgent(api, { registrationKey });
  const agent = await RelayClient.connect(grant.relay.url, {
    hello: { role: 'agent', token: grant.relay.token },
  });
  sockets.push(agent);
  await agent.next('welcome');
  const redeemed = await expectJson<{ relay: { url: string; token: string } }>(
    await postRedeem(api, who, grant.code),
    200,
  );
  const operator = await RelayClient.connect(redeemed.relay.url, {
    hello: { role: 'operator', token: redeemed.relay.token },
  });
  sockets.push(operator);
  await operator.next('welcome');
  await agent.next('operator-joined');
  agent.send({ type: 'consent', accepted: true, permissions });
  await operator.next('consent');
  return { agent, operator, grant };
}

/** The audit events of one session and action, newest first. */
export async function auditOf(
  cp: TestControlPlane,
  cookie: string,
  sessionId: string,
  action: string,
): Promise<AuditEvent[]> {
  const response = await cp.app.request(`/api/audit-events?sessionId=${sessionId}&action=${action}`, {
    headers: { cookie },
  });
  if (response.status !== 200) throw new Error(`audit: ${response.status} ${await response.text()}`);
  return ((await response.json()) as Page<AuditEvent>).items;
}

/** Reads a session through the API. */
export async function sessionOf(cp: TestControlPlane, id: string, cookie?: string) {
  const response = await cp.app.request(`/api/sessions/${id}`, {
    headers: { cookie: cookie ?? (await loginCookie(cp.app)) },
  });
  if (response.status !== 200) throw new Error(`session ${id}: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; status: string; endReason: string | null };
}

/**
 * Polls `condition` until it holds, for state that no message announces (database rows, counters):
 * `waitFor` with the relay tests' argument order, timeout and a short interval.
 */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  await waitFor(what, condition, timeoutMs, 10);
}

/** A listening control plane for a relay test, the administrator's cookie and operator id. */
export async function startRelayPlane(options: StartOptions = {}) {
  const cp = await startControlPlane({ listen: true, ...options });
  const cookie = await loginCookie(cp.app);
  const me = await cp.app.request('/api/auth/me', { headers: { cookie } });
  const operatorId = ((await me.json()) as { operator: { id: string } }).operator.id;
  return { cp, cookie, operatorId };
}

/**
 * Registers the hooks of a relay test in the calling `describe`: one listening control plane with the
 * administrator signed in (`startRelayPlane`) for the block, and every client in `sockets` closed after it.
 * @example
 * const relay = useRelayPlane();
 * it('…', async () => { const { agent, operator } = await relay.session(VIEW_ONLY); });
 */
export function useRelayPlane(options: StartOptions = {}) {
  let plane: Awaited<ReturnType<typeof startRelayPlane>> | undefined;
  const sockets: RelayClient[] = [];
  before(async () => {
    plane = await startRelayPlane(options);
  });
  after(() => closeAll(sockets, plane?.cp));
  return {
    get cp() {
      return started(plane, 'the control plane').cp;
    },
    /** The administrator's cookie. */
    get cookie() {
      return started(plane, 'the control plane').cookie;
    },
    /** The administrator's operator id. */
    get operatorId() {
      return started(plane, 'the control plane').operatorId;
    },
    sockets,
    /** An agent and an operator on a session (`consentedSession`), closed after the block, and its id. */
    async session(consent: Permissions | 'unanswered') {
      const { agent, operator, registration } = await consentedSession(this.cp, this.cookie, consent);
      sockets.push(agent, operator);
      return { agent, operator, sessionId: registration.sessionId };
    },
  };
}

/** Closes every client a test opened, then its control plane. */
export async function closeAll(
  sockets: readonly RelayClient[],
  cp: TestControlPlane | undefined,
): Promise<void> {
  await Promise.all(sockets.map((socket) => socket.close()));
  await cp?.stop();
}

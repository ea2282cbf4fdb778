import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type WebSocket as ServerSocket, WebSocket, WebSocketServer } from 'ws';
import {
  CloseCode,
  type ControlMessage,
  decodeFrame,
  encodeControl,
  isRelayLinkError,
  type MessageOf,
  PROTOCOL_VERSION,
  RelayLink,
  type RelayLinkClosed,
} from '../../protocol/index.ts';
import { consentedSession, eventually, relayUrl } from '../control-plane/relay-client.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { permissionsWith } from '../support/permissions.ts';

// The one relay link every client uses (console, agent, API participant, benchmark, tests), over
// real sockets: a `ws` server that misbehaves on purpose, and the real relay.

const SLOT = 7;
const WELCOME: MessageOf<'welcome'> = {
  type: 'welcome',
  protocol: PROTOCOL_VERSION,
  sessionId: 's',
  slot: SLOT,
};
const HELLO: MessageOf<'hello'> = {
  type: 'hello',
  protocol: PROTOCOL_VERSION,
  role: 'operator',
  token: 'test-token',
  client: { name: 'relay-link-test', version: '0' },
};

/** A `ws` server that hands each connection to `onConnection`, and what the link said to it. */
async function fakeRelay(onConnection: (socket: ServerSocket, heard: ControlMessage[]) => void) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  server.on('connection', (socket) => {
    const heard: ControlMessage[] = [];
    socket.on('message', (data: Buffer) => {
      const decoded = decodeFrame(data);
      if (decoded.ok && decoded.frame.kind === 'control') heard.push(decoded.frame.message);
    });
    onConnection(socket, heard);
  });
  const { port } = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

/** Every link a test opened, closed after it even when it fails half-way. */
const links: RelayLink[] = [];

/** A link over a `ws` client socket, with its close report as a promise. */
function linkTo(url: string, options: ConstructorParameters<typeof RelayLink>[1] = {}) {
  let closed!: (info: RelayLinkClosed) => void;
  const onClose = new Promise<RelayLinkClosed>((resolve) => {
    closed = resolve;
  });
  const link = new RelayLink(new WebSocket(url), { hello: HELLO, ...options, onClose: closed });
  links.push(link);
  return { link, onClose };
}

describe('RelayLink over a ws server', () => {
  let relay: Awaited<ReturnType<typeof fakeRelay>> | undefined;
  afterEach(async () => {
    for (const link of links.splice(0)) link.close();
    await relay?.close();
    relay = undefined;
  });

  it('gives up on a relay that never welcomes: the welcome rejects with no-welcome and the link closes with 4000', async () => {
    relay = await fakeRelay(() => {});
    const { link, onClose } = linkTo(relay.url, { welcomeTimeoutMs: 300 });
    await assert.rejects(link.welcomed, (error) => isRelayLinkError(error, 'no-welcome'));
    const closed = await onClose;
    assert.deepEqual(closed, { code: CloseCode.noWelcome, byUs: true, welcomed: false });
    assert.equal(link.open, false);
  });

  it('sends hello first and resolves the welcome with the relay’s answer', async () => {
    let heard: ControlMessage[] = [];
    relay = await fakeRelay((socket, messages) => {
      heard = messages;
      socket.send(encodeControl(WELCOME));
    });
    const { link } = linkTo(relay.url);
    assert.deepEqual(await link.welcomed, WELCOME);
    assert.equal(link.slot, SLOT);
    await eventually(() => heard.length > 0, 'the hello');
    assert.deepEqual(heard[0], HELLO);
    link.close();
  });

  it('counts and drops a malformed frame and goes on with the next one', async () => {
    relay = await fakeRelay((socket) => {
      socket.send(new Uint8Array([0x7f, 1, 2, 3])); // an unknown frame kind
      socket.send('a text frame');
      socket.send(encodeControl(WELCOME));
    });
    const received: ControlMessage[] = [];
    const { link } = linkTo(relay.url, { onMessage: (message) => received.push(message) });
    await link.welcomed;
    assert.equal(link.malformedFrames, 2);
    assert.deepEqual(received, [WELCOME]);
    link.close();
  });

  it('rejects a request the peer never answers with a timeout error and closes its channel on the peer', async () => {
    let heard: ControlMessage[] = [];
    relay = await fakeRelay((socket, messages) => {
      heard = messages;
      socket.send(encodeControl(WELCOME));
    });
    const { link } = linkTo(relay.url);
    await link.welcomed;
    const listing = link.request(
      (channel) => ({ type: 'file-list', channel, path: '' }),
      (message) => (message.type === 'file-listing' ? message : undefined),
      { timeoutMs: 300 },
    );
    await assert.rejects(listing, (error) => {
      assert.ok(isRelayLinkError(error, 'timeout'));
      assert.match(error.message, /did not answer within/);
      return true;
    });
    await eventually(() => heard.some((message) => message.type === 'channel-close'), 'the channel closed');
    const request = heard.find((message) => message.type === 'file-list');
    assert.deepEqual(heard.at(-1), {
      type: 'channel-close',
      channel: request && 'channel' in request ? request.channel : -1,
    });
    link.close();
  });

  it('rejects every pending request with a closed error when the relay drops the socket', async () => {
    let serverSocket: ServerSocket | undefined;
    relay = await fakeRelay((socket) => {
      serverSocket = socket;
      socket.send(encodeControl(WELCOME));
    });
    const { link, onClose } = linkTo(relay.url);
    await link.welcomed;
    const requests = [1, 2].map(() =>
      link.request(
        (channel) => ({ type: 'file-list', channel, path: '' }),
        (message) => (message.type === 'file-listing' ? message : undefined),
      ),
    );
    serverSocket!.close(CloseCode.policy, 'bye');
    for (const request of requests) {
      await assert.rejects(request, (error) => isRelayLinkError(error, 'closed'));
    }
    assert.deepEqual(await onClose, { code: CloseCode.policy, byUs: false, welcomed: true });
    await assert.rejects(
      link.request(
        (channel) => ({ type: 'file-list', channel, path: '' }),
        () => undefined,
      ),
      (error) => isRelayLinkError(error, 'not-connected'),
    );
  });

  it('a refused connection (nothing listens) rejects the welcome and reports the close; the `ws` error does not escape', async () => {
    relay = await fakeRelay(() => {});
    const url = relay.url;
    await relay.close();
    const { link, onClose } = linkTo(url);
    await assert.rejects(link.welcomed, (error) => isRelayLinkError(error, 'closed'));
    assert.equal((await onClose).welcomed, false);
  });

  it('drops a relay that goes silent after asking for heartbeats, as a lost connection (4000)', async () => {
    let heard: ControlMessage[] = [];
    relay = await fakeRelay((socket, messages) => {
      heard = messages;
      socket.send(encodeControl({ ...WELCOME, heartbeatSeconds: 0.1 }));
    });
    const { link, onClose } = linkTo(relay.url);
    await link.welcomed;
    assert.deepEqual(await onClose, { code: CloseCode.noWelcome, byUs: true, welcomed: true });
    await eventually(() => heard.some((message) => message.type === 'heartbeat'), 'a heartbeat before');
  });

  it('a handler that throws does not take the link down', async () => {
    relay = await fakeRelay((socket) => {
      socket.send(encodeControl({ type: 'request-keyframe' }));
      socket.send(encodeControl(WELCOME));
    });
    const failures: unknown[] = [];
    const { link } = linkTo(relay.url, {
      onMessage: (message) => {
        if (message.type === 'request-keyframe') throw new Error('handler bug');
      },
      onHandlerError: (error) => failures.push(error),
    });
    await link.welcomed;
    assert.equal(failures.length, 1);
    assert.equal(link.open, true);
    link.close();
  });
});

describe('RelayLink against the real relay', () => {
  let cp: TestControlPlane;
  before(async () => {
    cp = await startControlPlane({ listen: true });
  });
  after(() => cp.stop());

  it('a hello with a bad token is refused: the welcome rejects with the relay’s TOKEN_INVALID', async () => {
    const { link, onClose } = linkTo(relayUrl(cp), { hello: { ...HELLO, token: 'not-a-token' } });
    await assert.rejects(
      link.welcomed,
      (error) => isRelayLinkError(error, 'refused') && error.code === 'TOKEN_INVALID',
    );
    assert.equal((await onClose).welcomed, false);
  });

  it('an operator’s request is answered by the agent through the relay; one the agent ignores times out', async () => {
    const cookie = await loginCookie(cp.app);
    const { agent, operator, welcome } = await consentedSession(
      cp,
      cookie,
      permissionsWith({ view: true, chat: true, files: true }),
    );
    await operator.close();
    // The test client left its slot; a link joins as a second operator.
    const session = welcome.sessionId;
    const join = await cp.app.request(`/api/sessions/${session}/join`, {
      method: 'POST',
      headers: { cookie },
    });
    assert.equal(join.status, 200);
    const grant = (await join.json()) as { relay: { url: string; token: string } };
    const { link } = linkTo(grant.relay.url, { hello: { ...HELLO, token: grant.relay.token } });
    try {
      await link.welcomed;
      const asked = agent.messages('file-list').length;
      const answered = link.request(
        (channel) => ({ type: 'file-list', channel, path: 'docs' }),
        (message) => (message.type === 'file-listing' ? message.path : undefined),
      );
      const request = await agent.next('file-list', asked);
      agent.send({
        type: 'file-listing',
        channel: request.channel,
        path: 'docs',
        root: '/shared',
        offset: 0,
        total: 0,
        entries: [],
      });
      assert.equal(await answered, 'docs');

      const ignored = link.request(
        (channel) => ({ type: 'file-list', channel, path: 'slow' }),
        () => undefined,
        { timeoutMs: 300 },
      );
      await assert.rejects(ignored, (error) => isRelayLinkError(error, 'timeout'));
    } finally {
      link.close();
      await agent.close();
    }
  });
});

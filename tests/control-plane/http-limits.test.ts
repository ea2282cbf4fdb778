import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { eventually } from './relay-client.ts';

/** 60 MB, the body the review sent unauthenticated. */
const HUGE_BYTES = 60 * 1024 * 1024;
/** How long a test waits for the server's answer, in milliseconds. Generous on purpose. */
const ANSWER_WAIT_MS = 10_000;

interface Exchange {
  /** Everything the server sent. */
  text: string;
  /** Whether the server closed the connection. */
  closed: boolean;
}

/**
 * Opens a raw connection, sends `head` and the `body` pieces, and collects what the server answers
 * until it closes the connection or `ANSWER_WAIT_MS` passes. The rest of the body is never sent.
 */
function exchange(url: string, head: string, body: Buffer[]): Promise<Exchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(port), hostname);
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => done(false), ANSWER_WAIT_MS);
    socket.on('data', (data) => {
      text += data.toString('latin1');
    });
    socket.on('close', () => done(true));
    socket.on('error', () => {});
    socket.write(head);
    for (const piece of body) socket.write(piece);
  });
}

function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}

function problemOf(text: string): { code: string; status: number } {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
}

describe('HTTP limits', () => {
  let cp: TestControlPlane;

  before(async () => {
    cp = await startControlPlane({ listen: true });
  });

  after(async () => {
    await cp.stop();
  });

  it('a 60 MB unauthenticated body is refused with 413 MESSAGE_TOO_LARGE without being read', async () => {
    const answer = await exchange(
      cp.url,
      `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${HUGE_BYTES}\r\n\r\n`,
      [Buffer.alloc(16 * 1024, 0x20)],
    );
    assert.equal(statusOf(answer.text), 413, answer.text || 'no answer');
    assert.match(answer.text, /content-type: application\/problem\+json/i);
    assert.deepEqual(
      { ...problemOf(answer.text) },
      { ...problemOf(answer.text), code: 'MESSAGE_TOO_LARGE', status: 413 },
    );
    assert.equal(answer.closed, true, 'the server closes the connection instead of reading the rest');
  });

  it('a chunked body is refused with 413 once it passes the limit, before it ends', async () => {
    const chunk = Buffer.alloc(32 * 1024, 0x20);
    const pieces = [];
    for (let i = 0; i < 4; i++)
      pieces.push(Buffer.from(`${chunk.byteLength.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
    const answer = await exchange(
      cp.url,
      'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      pieces,
    );
    assert.equal(statusOf(answer.text), 413, answer.text || 'no answer');
    assert.equal(problemOf(answer.text).code, 'MESSAGE_TOO_LARGE');
  });

  it('a JSON body under the limit still reaches its route', async () => {
    const response = await fetch(`${cp.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'nobody', password: 'x'.repeat(1000) }),
    });
    assert.equal(response.status, 401);
  });

  it("the console's CSP lets it connect to its own origin only (no WebSocket to any host)", async () => {
    const response = await fetch(`${cp.url}/`);
    const policy = response.headers.get('content-security-policy') ?? '';
    const connectSrc = policy
      .split(';')
      .map((directive) => directive.trim())
      .find((directive) => directive.startsWith('connect-src'));
    assert.equal(connectSrc, "connect-src 'self'");
  });
});

describe('HTTP limits on connections', () => {
  let cp: TestControlPlane;
  const MAX_SOCKETS = 4;

  before(async () => {
    cp = await startControlPlane({
      listen: true,
      env: { LIFELINE_MAX_SOCKETS_PER_ADDRESS: String(MAX_SOCKETS), LIFELINE_HEADERS_TIMEOUT_SECONDS: '1' },
    });
  });

  after(async () => {
    await cp.stop();
  });

  /** A connection that has sent nothing yet. */
  function open(): Promise<Socket> {
    const { hostname, port } = new URL(cp.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(socket));
      socket.on('error', reject);
    });
  }

  it('headers that do not arrive within the headers timeout are answered 408 and the connection closes', async () => {
    const answer = await exchange(cp.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', []);
    assert.equal(statusOf(answer.text), 408, answer.text || 'no answer');
    assert.equal(answer.closed, true);
  });

  it(`one address holds at most ${MAX_SOCKETS} connections; past them a request and a WebSocket get 429 TOO_FREQUENT`, async () => {
    // Each held connection sends a request now and then, so the headers timeout does not close it.
    const held: Socket[] = [];
    for (let i = 0; i < MAX_SOCKETS; i++) held.push(await open());
    const keepAlive = setInterval(() => {
      for (const socket of held) socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    }, 300);
    for (const socket of held) socket.on('data', () => {});
    try {
      const answer = await exchange(cp.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', []);
      assert.equal(statusOf(answer.text), 429, answer.text || 'no answer');
      assert.equal(problemOf(answer.text).code, 'TOO_FREQUENT');
      assert.equal(answer.closed, true);
      const upgrade = await exchange(
        cp.url,
        'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        [],
      );
      assert.equal(statusOf(upgrade.text), 429, upgrade.text || 'no answer');
    } finally {
      clearInterval(keepAlive);
    }
    // Once one closes, the address may connect again.
    await new Promise<void>((resolve) => {
      held
        .pop()!
        .once('close', () => resolve())
        .destroy();
    });
    await eventually(
      async () => (await fetch(`${cp.url}/healthz`)).status === 200,
      'a new connection is served',
    );
    for (const socket of held) socket.destroy();
  });
});

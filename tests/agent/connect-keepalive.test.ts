import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { installOutbound } from '../../agent/node/outbound.ts';

/**
 * Wine fails a socket whose TCP keep-alive is turned on before it has connected (`connect UNKNOWN`),
 * which undici's own connector does for every `fetch` and `WebSocket`. The agent's connector turns it
 * on once connected: recorded here on real loopback connections through Node's real `fetch`.
 */
// The packaged agent's WebSocket (Node 22's, undici's) goes through the same dispatcher; the test
// runtime (Node 20) has no global WebSocket, so the Wine test covers that path.
describe('fetch sets TCP keep-alive only on connected sockets', () => {
  let server: Server;
  let url: string;
  /** For each setKeepAlive(true) call: whether the socket was still connecting. */
  const calls: { connecting: boolean }[] = [];
  const original = Socket.prototype.setKeepAlive;

  before(async () => {
    server = createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    Socket.prototype.setKeepAlive = function (this: Socket, enable?: boolean, delay?: number) {
      if (enable) calls.push({ connecting: this.connecting });
      return original.call(this, enable, delay);
    };
    assert.equal(installOutbound(), true, "Node's fetch dispatcher was replaced");
  });

  after(async () => {
    Socket.prototype.setKeepAlive = original;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('a fetch turns keep-alive on once its socket is connected, and gets its answer', async () => {
    calls.length = 0;
    const response = await fetch(`http://${url}/`);
    assert.equal(await response.text(), 'ok');
    assert.ok(calls.length > 0, 'keep-alive is on');
    assert.deepEqual(
      calls.filter((call) => call.connecting),
      [],
      'never before connect',
    );
  });

  it('a refused connection fails the fetch with its cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`), (error: Error) => {
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
      return true;
    });
  });
});

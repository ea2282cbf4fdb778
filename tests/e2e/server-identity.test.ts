import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TLSSocket } from 'node:tls';
import { readStamp } from '../../agent/packaging/own-stamp.ts';
import { verifyStamp } from '../../agent/packaging/stamp-verify.ts';
import { generateSelfSigned, servedKeyPin } from '../../control-plane/http/tls.ts';
import { shownCode, spawnAgent } from '../support/agent-process.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { stampedDownload } from '../support/stamped-download.ts';
import { interceptor } from '../support/tls-impostor.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

/**
 * An HTTP proxy that inspects TLS, as some company networks (and attackers) do: it answers CONNECT,
 * ends the agent's TLS with a certificate of its own and passes what it decrypts on to the real server.
 */
interface InspectingProxy {
  url: string;
  /** Tunnels it was asked to open. */
  tunnels(): number;
  /** Bytes the agent sent it inside TLS (which it would read and forward). */
  decryptedBytes(): number;
  close(): Promise<void>;
}

async function startInspectingProxy(
  identity: { cert: Buffer; key: Buffer },
  upstreamPort: number,
): Promise<InspectingProxy> {
  let tunnels = 0;
  const middle = interceptor(upstreamPort);
  const server: Server = createServer();
  server.on('connect', (_request, client: Socket) => {
    tunnels++;
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    middle.intercept(new TLSSocket(client, { isServer: true, ...identity }), client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels: () => tunnels,
    decryptedBytes: middle.decryptedBytes,
    close: () => {
      middle.destroyAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// A control plane serving HTTPS with the certificate it generated (LIFELINE_TLS=self-signed), which
// no system trusts; the real agent from source, stamped as a download from that control plane is.
describe('the agent recognises its server', () => {
  let xvfb: Xvfb;
  let cp: TestControlPlane;
  let scratch: string;
  let stamped: string;
  let fingerprint: string;
  const agents: Spawned[] = [];

  /** The source agent; with `stamp`, it reads its stamp from the downloaded file as a packaged one does. */
  function run(options: { stamp?: boolean; env?: NodeJS.ProcessEnv; args?: string[] } = {}): Spawned {
    const agent = spawnAgent({
      server: cp.url,
      display: xvfb.display,
      keepInput: true,
      env: { ...(options.stamp ? { LIFELINE_AGENT_STAMP_FILE: stamped } : {}), ...options.env },
      ...(options.args ? { args: options.args } : {}),
    });
    agents.push(agent);
    return agent;
  }

  /** Whether the control plane sees an agent on the relay of a live session. */
  async function agentOnRelay(): Promise<boolean> {
    const cookie = await loginCookie(cp.app);
    const response = await cp.app.request('/api/sessions', { headers: { cookie } });
    const { items } = (await response.json()) as { items: { agentConnected: boolean }[] };
    return items.some((session) => session.agentConnected);
  }

  before(async () => {
    xvfb = await startXvfb({ width: 640, height: 480 });
    cp = await startControlPlane({ listen: true, tls: true });
    scratch = mkdtempSync(join(tmpdir(), 'lifeline-server-identity-'));
    fingerprint = new X509Certificate(readFileSync(join(cp.dataDir, 'tls', 'cert.pem'))).fingerprint256;
    // The download route stamps a stand-in executable: the stamp is what this test is about.
    stamped = await stampedDownload(cp, scratch);
  });

  after(async () => {
    for (const agent of agents) await agent.kill();
    await cp?.stop();
    await xvfb?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("a download's stamp carries the pin of the control plane's TLS key", async () => {
    const jwt = readStamp(stamped)?.jwt;
    assert.ok(jwt, 'the download is stamped');
    const pin = await servedKeyPin(cp.services.config);
    assert.ok(pin);
    const viaApp = ((input: string | URL | Request) =>
      cp.app.request(new URL(String(input)).pathname)) as unknown as typeof fetch;
    assert.equal((await verifyStamp(jwt, { fetch: viaApp })).serverKey, pin);
  });

  it('a stamped agent connects to its self-signed control plane without asking, and reaches the relay', async () => {
    const agent = run({ stamp: true });
    await shownCode(agent);
    await waitFor('the agent on the relay', agentOnRelay);
    assert.doesNotMatch(agent.output(), /Connect to this server\?/, 'the user was asked nothing');
    await agent.kill();
  });

  it('a stamped agent refuses an impostor the system trusts, with a clear message, and sends it nothing', async () => {
    const dir = join(scratch, 'impostor');
    await generateSelfSigned(join(dir, 'cert.pem'), join(dir, 'key.pem'), ['IP:127.0.0.1', 'DNS:localhost']);
    const identity = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
    const impostor = await startInspectingProxy(identity, Number(new URL(cp.url).port));
    try {
      const agent = run({
        stamp: true,
        args: ['--proxy', impostor.url],
        // This computer trusts the impostor's certificate: only the pin tells it from the real server.
        env: { NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') },
      });
      // An agent fooled by the impostor would register and show a code: that ends the wait too.
      const code = shownCode(agent).then(
        () => 'a code was shown',
        () => 'no code',
      );
      const end = await Promise.race([agent.exited, code]);
      assert.equal(end, 1, agent.output());
      assert.match(agent.output(), /is not the help desk this agent was downloaded from/);
      assert.ok(impostor.tunnels() > 0, 'the agent went through the impostor');
      assert.equal(impostor.decryptedBytes(), 0, 'not a byte reached the impostor inside TLS');
    } finally {
      await impostor.close();
    }
  });

  it("an unstamped agent shows the server's fingerprint and connects only once the user approves it", async () => {
    const agent = run();
    await waitFor('the question', () => agent.output().includes('Connect to this server?'));
    assert.ok(agent.output().includes(fingerprint), `the fingerprint is shown: ${agent.output()}`);
    assert.match(agent.output(), /does not trust the certificate/);
    assert.doesNotMatch(agent.output(), /\d{3} \d{3} \d{3}/, 'no code before the approval');
    agent.child.stdin?.write('y\n');
    await shownCode(agent);
    await waitFor('the agent on the relay', agentOnRelay);
    assert.equal(agent.output().split('Connect to this server?').length, 2, 'asked once for this run');
    await agent.kill();
  });

  it('an unstamped agent the user does not approve connects to nothing', async () => {
    const agent = run();
    await waitFor('the question', () => agent.output().includes('Connect to this server?'));
    agent.child.stdin?.write('n\n');
    assert.equal(await agent.exited, 1, agent.output());
    assert.match(agent.output(), /was not approved, so the agent did not connect/);
    assert.doesNotMatch(agent.output(), /\d{3} \d{3} \d{3}/);
  });

  it('an unstamped agent given the fingerprint (--server-fingerprint) connects without asking, and refuses another', async () => {
    const agent = run({ args: ['--server-fingerprint', fingerprint.toLowerCase()] });
    await shownCode(agent);
    assert.doesNotMatch(agent.output(), /Connect to this server\?/);
    await agent.kill();

    const other = fingerprint.replace(/^[0-9A-F]{2}/, (byte) => (byte === '00' ? '01' : '00'));
    const refused = run({ args: ['--server-fingerprint', other] });
    assert.equal(await refused.exited, 1, refused.output());
    assert.match(refused.output(), /presents another certificate than the fingerprint given/);
    assert.doesNotMatch(refused.output(), /\d{3} \d{3} \d{3}/);
  });
});

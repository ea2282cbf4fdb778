import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:tls';
import { readStamp } from '../../agent/packaging/own-stamp.ts';
import { verifyStamp } from '../../agent/packaging/stamp-verify.ts';
import { ConfigError, loadConfig } from '../../control-plane/config.ts';
import { generateSelfSigned } from '../../control-plane/http/tls.ts';
import { serverKeyPin } from '../../protocol/agent-stamp.ts';
import { shownCode, spawnAgent } from '../support/agent-process.ts';
import { freePort, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import type { Spawned } from '../support/processes.ts';
import { stampedDownload } from '../support/stamped-download.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

interface Identity {
  cert: Buffer;
  key: Buffer;
}

/** A TLS-terminating reverse proxy: ends TLS with its own certificate, forwards the bytes in clear. */
interface TlsTerminator {
  close(): Promise<void>;
}

async function startTerminator(
  identity: Identity,
  port: number,
  upstreamPort: number,
): Promise<TlsTerminator> {
  const sockets = new Set<Socket>();
  const server: Server = createServer(identity, (client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function makeIdentity(dir: string): Promise<Identity & { certFile: string }> {
  const certFile = join(dir, 'cert.pem');
  await generateSelfSigned(certFile, join(dir, 'key.pem'), ['IP:127.0.0.1', 'DNS:localhost']);
  return { certFile, cert: readFileSync(certFile), key: readFileSync(join(dir, 'key.pem')) };
}

// The control plane speaks plain http behind a TLS-terminating reverse proxy, and is told the proxy's
// certificate (LIFELINE_TLS_PIN_CERT): agents downloaded from it are pinned to the proxy's key, as they
// are to the control plane's own key when it serves TLS itself (tests/e2e/server-identity.test.ts).
describe('agents pinned to the key of a TLS-terminating reverse proxy (LIFELINE_TLS_PIN_CERT)', () => {
  let xvfb: Xvfb;
  let cp: TestControlPlane;
  let scratch: string;
  let proxy: Identity & { certFile: string };
  let proxyPort: number;
  let publicUrl: string;
  let terminator: TlsTerminator;
  let stamped: string;
  const agents: Spawned[] = [];

  function run(env: NodeJS.ProcessEnv = {}): Spawned {
    const agent = spawnAgent({
      server: publicUrl,
      display: xvfb.display,
      keepInput: true,
      env: { LIFELINE_AGENT_STAMP_FILE: stamped, ...env },
    });
    agents.push(agent);
    return agent;
  }

  before(async () => {
    xvfb = await startXvfb({ width: 640, height: 480 });
    scratch = mkdtempSync(join(tmpdir(), 'lifeline-reverse-proxy-'));
    proxy = await makeIdentity(mkdtempSync(join(scratch, 'proxy-')));
    proxyPort = await freePort();
    publicUrl = `https://127.0.0.1:${proxyPort}`;
    cp = await startControlPlane({
      listen: true,
      env: { LIFELINE_PUBLIC_URL: publicUrl, LIFELINE_TLS_PIN_CERT: proxy.certFile },
    });
    terminator = await startTerminator(proxy, proxyPort, Number(new URL(cp.url).port));
    stamped = await stampedDownload(cp, scratch);
  });

  after(async () => {
    for (const agent of agents) await agent.kill();
    await terminator?.close();
    await cp?.stop();
    await xvfb?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("a download's stamp carries the pin of the proxy's key", async () => {
    const jwt = readStamp(stamped)?.jwt;
    assert.ok(jwt, 'the download is stamped');
    const viaApp = ((input: string | URL | Request) =>
      cp.app.request(new URL(String(input)).pathname)) as unknown as typeof fetch;
    const proxyKey = new X509Certificate(proxy.cert).publicKey.export({ type: 'spki', format: 'der' });
    assert.equal((await verifyStamp(jwt, { fetch: viaApp })).serverKey, await serverKeyPin(proxyKey));
  });

  it('a stamped agent reaches its control plane through the proxy without asking, though no system trusts it', async () => {
    const agent = run();
    await shownCode(agent);
    assert.doesNotMatch(agent.output(), /Connect to this server\?/, 'the user was asked nothing');
    await agent.kill();
  });

  it('another proxy at the same address, with a key of its own that the computer trusts, is refused', async () => {
    await terminator.close();
    const impostor = await makeIdentity(mkdtempSync(join(scratch, 'impostor-')));
    terminator = await startTerminator(impostor, proxyPort, Number(new URL(cp.url).port));
    const agent = run({ NODE_EXTRA_CA_CERTS: impostor.certFile });
    const code = shownCode(agent).then(
      () => 'a code was shown',
      () => 'no code',
    );
    assert.equal(await Promise.race([agent.exited, code]), 1, agent.output());
    assert.match(agent.output(), /is not the help desk this agent was downloaded from/);
  });

  it('is refused at start when the server speaks TLS itself, or its public URL is not https', () => {
    const base = { LIFELINE_DATA_DIR: scratch, LIFELINE_TLS_PIN_CERT: proxy.certFile };
    assert.throws(
      () => loadConfig({ ...base, LIFELINE_TLS: 'self-signed' }),
      (error) => error instanceof ConfigError && /remove LIFELINE_TLS_PIN_CERT/.test(error.message),
    );
    assert.throws(
      () => loadConfig({ ...base, LIFELINE_PUBLIC_URL: 'http://help.example.org' }),
      (error) => error instanceof ConfigError && /starts with https:\/\//.test(error.message),
    );
  });
});

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { webCodecsMissing } from '../../console/app/media/video-renderer.ts';
import { ConfigError, describeConfig, loadConfig } from '../../control-plane/config.ts';
import { generateSelfSigned } from '../../control-plane/http/tls.ts';
import { launchChromium } from '../support/browser.ts';
import { freePort } from '../support/control-plane.ts';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.ts';

/** The console's page over https, trusting only `ca`: its status and body. */
function getHttps(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** A plain-http GET: what came back, or the error that ended it. */
function getHttp(url: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const request = httpGet(url, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', (error) => resolve({ error: error.message }));
    });
    request.on('error', (error) => resolve({ error: error.message }));
    request.setTimeout(10_000, () => request.destroy(new Error('timed out')));
  });
}

/** The fingerprint the control plane printed on its standard output. */
function printedFingerprint(output: string): string | undefined {
  return /SHA-256 fingerprint: ([0-9A-F:]+)/.exec(output)?.[1];
}

describe('HTTPS with a self-signed certificate (LIFELINE_TLS=self-signed)', () => {
  let dataDir: string;
  let port: number;
  let url: string;
  let cp: ControlPlaneProcess | undefined;
  const start = () =>
    startControlPlaneProcess({
      dataDir,
      port,
      env: { LIFELINE_TLS: 'self-signed', LIFELINE_PUBLIC_URL: url },
    });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-https-'));
    port = await freePort();
    url = `https://127.0.0.1:${port}`;
    cp = await start();
  });

  after(async () => {
    await cp?.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const certFile = () => join(dataDir, 'tls', 'cert.pem');

  it('serves the console over https with the certificate it generated, and prints its fingerprint', async () => {
    const cert = readFileSync(certFile());
    const page = await getHttps(`${url}/`, cert);
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
    assert.equal(printedFingerprint(cp?.process.output() ?? ''), new X509Certificate(cert).fingerprint256);
  });

  it('keeps the generated private key readable by its owner only', () => {
    assert.equal(statSync(join(dataDir, 'tls', 'key.pem')).mode & 0o777, 0o600);
  });

  it('does not serve the console over plain http on that port', async () => {
    const answer = await getHttp(`http://127.0.0.1:${port}/`);
    assert.ok(
      !('body' in answer && /<html/i.test(answer.body)),
      `plain http was answered: ${JSON.stringify(answer)}`,
    );
  });

  it('reuses the same certificate after a restart', async () => {
    const before = readFileSync(certFile());
    await cp?.stop('SIGTERM');
    cp = await start();
    assert.deepEqual(readFileSync(certFile()), before);
    assert.equal(printedFingerprint(cp.process.output()), new X509Certificate(before).fingerprint256);
    const page = await getHttps(`${url}/`, before);
    assert.equal(page.status, 200);
  });

  it('is a secure context in Chromium, so the console has WebCodecs', { timeout: 120_000 }, async () => {
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      await page.goto(`${url}/`);
      assert.deepEqual(await page.evaluate(() => [window.isSecureContext, typeof VideoDecoder]), [
        true,
        'function',
      ]);
    } finally {
      await browser.close();
    }
  });
});

describe('HTTPS configuration', () => {
  it('LIFELINE_TLS=self-signed makes the default public URL https, so relay addresses are wss://', () => {
    const config = loadConfig({
      PORT: '8443',
      LIFELINE_DATA_DIR: '/tmp/lifeline-x',
      LIFELINE_TLS: 'self-signed',
    });
    assert.equal(config.publicUrl, 'https://localhost:8443');
    assert.equal(config.secureCookies, true);
    assert.equal(config.tlsKeyFile, '/tmp/lifeline-x/tls/key.pem');
  });

  it('an http public URL with TLS on, or a certificate without its key, is refused with a ConfigError', () => {
    assert.throws(
      () => loadConfig({ LIFELINE_TLS: 'self-signed', LIFELINE_PUBLIC_URL: 'http://example.org' }),
      (error) => error instanceof ConfigError && /starts with https/.test(error.message),
    );
    assert.throws(
      () => loadConfig({ LIFELINE_TLS_CERT: '/etc/cert.pem' }),
      (error) => error instanceof ConfigError && /LIFELINE_TLS_KEY/.test(error.message),
    );
  });

  it('the start-up log shows the TLS mode and file paths', () => {
    const shown = describeConfig(
      loadConfig({ LIFELINE_TLS_CERT: '/etc/c.pem', LIFELINE_TLS_KEY: '/etc/k.pem' }),
    );
    assert.deepEqual([shown.tls, shown.tlsCertFile, shown.tlsKeyFile], ['files', '/etc/c.pem', '/etc/k.pem']);
  });
});

describe("HTTPS with the administrator's certificate (LIFELINE_TLS_CERT, LIFELINE_TLS_KEY)", () => {
  let dataDir: string;
  let cp: ControlPlaneProcess | undefined;

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-https-files-'));
  });

  after(async () => {
    await cp?.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the given certificate and prints its fingerprint', async () => {
    const cert = join(dataDir, 'admin-cert.pem');
    const key = join(dataDir, 'admin-key.pem');
    await generateSelfSigned(cert, key, ['IP:127.0.0.1']);
    const port = await freePort();
    const url = `https://127.0.0.1:${port}`;
    cp = await startControlPlaneProcess({
      dataDir,
      port,
      env: { LIFELINE_TLS_CERT: cert, LIFELINE_TLS_KEY: key, LIFELINE_PUBLIC_URL: url },
    });
    const pem = readFileSync(cert);
    assert.equal((await getHttps(`${url}/`, pem)).status, 200);
    assert.equal(printedFingerprint(cp.process.output()), new X509Certificate(pem).fingerprint256);
  });
});

describe('a console opened over plain http from another machine', () => {
  let dataDir: string;
  let cp: ControlPlaneProcess | undefined;

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-http-'));
  });

  after(async () => {
    await cp?.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('says to open it over https:// or via localhost on the server', { timeout: 120_000 }, async () => {
    const port = await freePort();
    cp = await startControlPlaneProcess({ dataDir, port });
    // A name that is not localhost, as another machine reaches the server by, resolved to loopback here.
    const browser = await launchChromium(['--host-resolver-rules=MAP lifeline.test 127.0.0.1']);
    try {
      const page = await browser.newPage();
      await page.goto(`http://lifeline.test:${port}/`);
      assert.deepEqual(await page.evaluate(() => [window.isSecureContext, typeof VideoDecoder]), [
        false,
        'undefined',
      ]);
      // The console's own message function, run in that page.
      const message = await page.evaluate(webCodecsMissing);
      assert.match(message, new RegExp(`Open https://lifeline\\.test:${port}/ instead`));
      assert.match(
        message,
        new RegExp(`open http://localhost:${port}/ on the machine that runs the control plane`),
      );
      assert.match(message, /LIFELINE_TLS=self-signed/);
    } finally {
      await browser.close();
    }
  });
});

describe('connection limits over HTTPS', () => {
  let dataDir: string;
  let cp: ControlPlaneProcess | undefined;
  const held: TLSSocket[] = [];

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-https-limits-'));
  });

  after(async () => {
    for (const socket of held) socket.destroy();
    await cp?.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('one address holds at most LIFELINE_MAX_SOCKETS_PER_ADDRESS TLS connections; past them 429', async () => {
    const port = await freePort();
    const url = `https://127.0.0.1:${port}`;
    cp = await startControlPlaneProcess({
      dataDir,
      port,
      env: { LIFELINE_TLS: 'self-signed', LIFELINE_PUBLIC_URL: url, LIFELINE_MAX_SOCKETS_PER_ADDRESS: '2' },
    });
    const ca = readFileSync(join(dataDir, 'tls', 'cert.pem'));
    for (let i = 0; i < 2; i++) {
      held.push(
        await new Promise<TLSSocket>((resolve, reject) => {
          const socket = tlsConnect({ host: '127.0.0.1', port, ca }, () => resolve(socket)).on(
            'error',
            reject,
          );
        }),
      );
    }
    const answer = await getHttps(`${url}/healthz`, ca);
    assert.equal(answer.status, 429, answer.body);
    assert.match(answer.body, /TOO_FREQUENT/);
  });
});

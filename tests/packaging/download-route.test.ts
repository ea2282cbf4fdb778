import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { verifyStamp } from '../../agent/packaging/stamp-verify.ts';
import type { ExecutableManifest } from '../../build/agent/build-executable.ts';
import { precompressExecutable } from '../../build/agent/precompress.ts';
import { gzipTail } from '../../control-plane/downloads/gzip-tail.ts';
import { AgentExecutables, acceptsGzip, downloadRoutes } from '../../control-plane/downloads/index.ts';
import type { AppEnv } from '../../control-plane/http/app-env.ts';
import { renderError } from '../../control-plane/http/problem.ts';
import { parseStampFooter, STAMP_FOOTER_BYTES } from '../../protocol/agent-stamp.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';

/** Splits a downloaded file into the executable and the stamp JWT. */
function splitStamp(file: Buffer): { executable: Buffer; jwt: string } {
  const length = parseStampFooter(file.subarray(-STAMP_FOOTER_BYTES), file.length);
  assert.ok(length, 'the download ends in a stamp');
  const start = file.length - STAMP_FOOTER_BYTES - length;
  return {
    executable: file.subarray(0, start),
    jwt: file.subarray(start, start + length).toString('latin1'),
  };
}

describe('GET /download/agent/:platform', () => {
  let cp: TestControlPlane;
  let dir: string;
  /** A stand-in executable: random, so compression cannot hide a wrong byte. */
  const executable = Buffer.concat([randomBytes(300_000), Buffer.alloc(700_000, 'A')]);
  const sha256 = createHash('sha256').update(executable).digest('base64url');
  let app: Hono<AppEnv>;
  const viaApp = ((input: string | URL | Request) =>
    cp.app.request(new URL(String(input)).pathname)) as unknown as typeof fetch;

  before(async () => {
    cp = await startControlPlane();
    dir = mkdtempSync(join(tmpdir(), 'lifeline-downloads-'));
    writeFileSync(join(dir, 'lifeline-agent-linux-x64'), executable);
    const manifest: ExecutableManifest = {
      platform: 'linux-x64',
      fileName: 'lifeline-agent-linux-x64',
      agentVersion: '0.0.0',
      nodeVersion: '22.23.3',
      size: executable.length,
      sha256,
      builtAt: new Date().toISOString(),
    };
    writeFileSync(join(dir, 'lifeline-agent-linux-x64.json'), JSON.stringify(manifest));
    const executables = new AgentExecutables({ dir, buildMissing: false });
    app = new Hono<AppEnv>();
    app.onError(renderError(cp.services.logger));
    app.use(async (c, next) => {
      c.set('address', '127.0.0.1');
      await next();
    });
    app.route('/', downloadRoutes(cp.services, { executables }));
    app.route(
      '/operator-link',
      downloadRoutes(cp.services, {
        executables,
        stampSession: (c) => {
          const sid = c.req.query('session');
          return sid
            ? { sid, relay: { url: 'ws://127.0.0.1:8080/ws', token: 'relay-agent-token' }, ttlMs: 60_000 }
            : undefined;
        },
      }),
    );
  });
  after(async () => {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the executable with a stamp the agent verifies, as an attachment with its length', async () => {
    const response = await app.request('/download/agent/linux-x64');
    assert.equal(response.status, 200);
    const body = Buffer.from(await response.arrayBuffer());
    assert.equal(response.headers.get('content-length'), String(body.length));
    assert.equal(
      response.headers.get('content-disposition'),
      'attachment; filename="lifeline-agent-linux-x64"',
    );
    assert.equal(response.headers.get('content-encoding'), null);
    const { executable: served, jwt } = splitStamp(body);
    assert.ok(served.equals(executable), 'the executable is served unchanged before its stamp');
    const config = await verifyStamp(jwt, { fetch: viaApp, executableDigest: async () => sha256 });
    assert.deepEqual(config, { server: cp.url, kid: cp.services.keys.current.kid, platform: 'linux-x64' });
  });

  it('gzip, when accepted, decompresses to exactly the uncompressed download', async () => {
    const plain = Buffer.from(await (await app.request('/download/agent/linux-x64')).arrayBuffer());
    const response = await app.request('/download/agent/linux-x64', {
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    assert.equal(response.headers.get('content-encoding'), 'gzip');
    const compressed = Buffer.from(await response.arrayBuffer());
    assert.equal(response.headers.get('content-length'), String(compressed.length));
    assert.ok(compressed.length < plain.length / 1.5, `${compressed.length} B compressed`);
    assert.ok(gunzipSync(compressed).equals(plain));
    assert.notEqual(response.headers.get('etag'), null);
    assert.notEqual(
      response.headers.get('etag'),
      (await app.request('/download/agent/linux-x64')).headers.get('etag'),
    );
  });

  it('a generic download keeps its ETag, and a client that has it gets 304', async () => {
    const first = await app.request('/download/agent/linux-x64');
    const etag = first.headers.get('etag');
    assert.ok(etag);
    assert.equal((await app.request('/download/agent/linux-x64')).headers.get('etag'), etag);
    assert.equal(first.headers.get('cache-control'), 'no-cache');
    const again = await app.request('/download/agent/linux-x64', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal((await again.arrayBuffer()).byteLength, 0);
  });

  it('a download for a session carries the session and is never cached', async () => {
    const response = await app.request('/operator-link/download/agent/linux-x64?session=s-42');
    assert.equal(response.headers.get('cache-control'), 'no-store, private');
    const { jwt } = splitStamp(Buffer.from(await response.arrayBuffer()));
    const config = await verifyStamp(jwt, { fetch: viaApp });
    assert.deepEqual(config.session, {
      id: 's-42',
      relay: { url: 'ws://127.0.0.1:8080/ws', token: 'relay-agent-token' },
    });
  });

  it('HEAD tells the length without sending the file', async () => {
    const response = await app.request('/download/agent/linux-x64', { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.ok(Number(response.headers.get('content-length')) > executable.length);
    assert.equal((await response.arrayBuffer()).byteLength, 0);
  });

  it('an unknown platform is a 404 problem naming the platforms there are', async () => {
    const response = await app.request('/download/agent/amiga-68k');
    assert.equal(response.status, 404);
    const problem = (await response.json()) as { code: string; detail: string };
    assert.equal(problem.code, 'NOT_FOUND');
    assert.match(problem.detail, /linux-x64, win-x64/);
  });

  it('a platform that was not built and may not be built is a 500 problem, not a hang', async () => {
    const response = await app.request('/download/agent/win-x64');
    assert.equal(response.status, 500);
  });
});

describe('gzip with a stamp appended per download', () => {
  it('an open gzip stream plus a stored-block tail is one valid gzip member', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-gzip-'));
    try {
      const path = join(dir, 'exe');
      const data = randomBytes(200_000);
      writeFileSync(path, data);
      const pre = await precompressExecutable(path, 'digest');
      // A tail longer than one stored block (65535 bytes) exercises the block split.
      for (const tail of [new Uint8Array(0), randomBytes(10), randomBytes(70_000)]) {
        const member = Buffer.concat([readFileSync(pre.path), gzipTail(pre, tail)]);
        assert.ok(gunzipSync(member).equals(Buffer.concat([data, tail])));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads Accept-Encoding as HTTP means it', () => {
    assert.equal(acceptsGzip(undefined), false);
    assert.equal(acceptsGzip('identity'), false);
    assert.equal(acceptsGzip('gzip'), true);
    assert.equal(acceptsGzip('br;q=1.0, gzip;q=0.8, *;q=0.1'), true);
    assert.equal(acceptsGzip('gzip;q=0, *'), false);
    assert.equal(acceptsGzip('*'), true);
  });
});

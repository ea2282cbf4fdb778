import assert from 'node:assert/strict';
import { get } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { buildBoth, downloadSizes } from '../../bench/agent-package.ts';
import type { ExecutableManifest } from '../../build/agent/build-executable.ts';
import { STAMP_MAGIC } from '../../protocol/agent-stamp.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';

/**
 * Both builds on a busy 2-core machine, in ms. This file runs before the other packaging and Wine
 * tests, so on a fresh clone it pays for compressing both runtimes (the Windows one with xz: minutes).
 */
const BUILD_TIMEOUT_MS = 25 * 60_000;

/** The raw (still compressed) body of a gzip download: fetch would decompress it. */
function rawGzipDownload(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { 'accept-encoding': 'gzip' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve(Buffer.concat(chunks)));
      response.on('error', reject);
    }).on('error', reject);
  });
}

describe('the agent package benchmark', { timeout: BUILD_TIMEOUT_MS + 2 * 60_000 }, () => {
  let built: Record<'linux' | 'windows', ExecutableManifest>;
  let cp: TestControlPlane;

  before(
    async () => {
      built = await buildBoth();
      cp = await startControlPlane({ listen: true });
    },
    { timeout: BUILD_TIMEOUT_MS },
  );

  after(async () => {
    await cp?.stop();
  });

  it('reports the served gzip size of both executables, stamp included', async () => {
    const figures = await downloadSizes(cp.url, built);
    for (const [name, platform] of [
      ['linux', 'linux-x64'],
      ['windows', 'win-x64'],
    ] as const) {
      assert.equal(figures[`${name}ExecutableBytes`], built[name].size);
      const body = await rawGzipDownload(`${cp.url}/download/agent/${platform}`);
      assert.equal(figures[`${name}DownloadGzipBytes`], body.length, `${name}: the bytes a user receives`);
      const executable = gunzipSync(body);
      assert.ok(executable.length > built[name].size, `${name}: the stamp is appended`);
      assert.ok(executable.subarray(executable.length - STAMP_MAGIC.length).equals(STAMP_MAGIC));
    }
  });
});

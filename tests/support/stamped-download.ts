import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono } from 'hono';
import type { ExecutableManifest } from '../../build/agent/build-executable.ts';
import { AgentExecutables, downloadRoutes } from '../../control-plane/downloads/index.ts';
import type { AppEnv } from '../../control-plane/http/app-env.ts';
import type { TestControlPlane } from './control-plane.ts';

/**
 * Downloads a Linux agent from the control plane's real download route, which stamps a stand-in
 * executable (4 KB of random bytes written to `scratch`): for tests about the stamp, which the source
 * agent reads from the file named by `LIFELINE_AGENT_STAMP_FILE` as a packaged one reads its own.
 *
 * @returns the path of the downloaded, stamped file.
 */
export async function stampedDownload(cp: TestControlPlane, scratch: string): Promise<string> {
  const executable = randomBytes(4096);
  const manifest: ExecutableManifest = {
    platform: 'linux-x64',
    fileName: 'lifeline-agent-linux-x64',
    agentVersion: '0.0.0',
    nodeVersion: '22.0.0',
    size: executable.length,
    sha256: createHash('sha256').update(executable).digest('base64url'),
    builtAt: new Date().toISOString(),
  };
  writeFileSync(join(scratch, manifest.fileName), executable);
  writeFileSync(join(scratch, `${manifest.fileName}.json`), JSON.stringify(manifest));
  const app = new Hono<AppEnv>();
  app.route(
    '/',
    downloadRoutes(cp.services, { executables: new AgentExecutables({ dir: scratch, buildMissing: false }) }),
  );
  const download = await app.request('/download/agent/linux-x64');
  assert.equal(download.status, 200, await download.clone().text());
  const stamped = join(scratch, 'downloaded-agent');
  writeFileSync(stamped, Buffer.from(await download.arrayBuffer()));
  return stamped;
}

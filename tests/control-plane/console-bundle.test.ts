import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { CONSOLE_FILES } from '../../build/console/bundle.ts';
import type { Problem } from '../../protocol/api/index.ts';
import { consoleBundle } from '../support/console-bundle.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';

// The server serves the console `npm run build:console` wrote and never bundles it itself.

describe('the console the control plane serves', () => {
  let cp: TestControlPlane | undefined;
  const folders: string[] = [];
  afterEach(async () => {
    await cp?.stop();
    cp = undefined;
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  /** An empty folder for the console, as on a fresh clone before any build. */
  function emptyConsoleDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-console-'));
    folders.push(dir);
    return dir;
  }

  it('with no built console, its page and assets answer 503 naming npm run build:console, and the start warns once', async () => {
    const dir = emptyConsoleDir();
    const logs: string[] = [];
    cp = await startControlPlane({ env: { LIFELINE_CONSOLE_DIR: dir, LOG_LEVEL: 'warn' }, logs });
    for (const path of ['/', '/assets/console.js', '/assets/console.css', '/assets/download-worker.js']) {
      const response = await cp.app.request(path);
      assert.equal(response.status, 503, path);
      assert.equal(response.headers.get('content-type'), 'application/problem+json');
      const problem = (await response.json()) as Problem;
      assert.equal(problem.code, 'INTERNAL');
      assert.match(problem.detail ?? '', /The console is not built .*npm run build:console/);
    }
    const warnings = logs.filter((line) => line.includes('npm run build:console'));
    assert.equal(warnings.length, 1, logs.join('\n'));
    assert.equal(JSON.parse(warnings[0]!).consoleDir, dir);
  });

  it('serves a console built after the start from LIFELINE_CONSOLE_DIR, and nothing else from that folder', async () => {
    const dir = emptyConsoleDir();
    cp = await startControlPlane({ env: { LIFELINE_CONSOLE_DIR: dir } });
    assert.equal((await cp.app.request('/')).status, 503);

    const bundle = consoleBundle();
    for (const [part, name] of Object.entries(CONSOLE_FILES)) {
      writeFileSync(join(dir, name), bundle[part as keyof typeof CONSOLE_FILES]);
    }
    writeFileSync(join(dir, 'notes.txt'), 'not part of the console');

    const page = await cp.app.request('/');
    assert.equal(page.status, 200);
    assert.equal(await page.text(), bundle.html);
    const script = await cp.app.request('/assets/console.js');
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(await script.text(), bundle.js);
    const style = await cp.app.request('/assets/console.css');
    assert.equal(style.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal(await style.text(), bundle.css);
    assert.equal(await (await cp.app.request('/assets/download-worker.js')).text(), bundle.worker);
    assert.equal(await (await cp.app.request('/assets/video-worker.js')).text(), bundle.videoWorker);
    for (const path of ['/assets/notes.txt', '/assets/index.html', '/assets/missing.js']) {
      assert.equal((await cp.app.request(path)).status, 404, path);
    }
  });
});

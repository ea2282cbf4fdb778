import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CDPSession } from 'playwright-core';
import { DOWNLOAD_SCOPE } from '../../console/app/tools/saving/worker-paths.ts';
import {
  downloadWorkerReady,
  itEndsCleanly,
  joinWithFiles,
  useAgentConsole,
} from '../console/real-console.ts';
import { waitFor } from '../support/processes.ts';
import { useSharedFolder } from '../support/shared-folder.ts';

const MIB = 1024 * 1024;

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The SHA-256 of a file, read as a stream (a download can be large). */
function sha256OfFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Live bytes of the page's JavaScript heap and the ArrayBuffers it holds, after a full collection. */
async function liveBytes(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  const usage = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; backingStorageSize?: number };
  return usage.usedSize + (usage.backingStorageSize ?? 0);
}

// The wider file manager (issue 14) in the real console, through the real control plane and relay,
// to a real agent process sharing a real folder.
describe('the file manager streams large downloads, pauses and resumes, copies and moves, uploads whole folders', () => {
  const ui = useAgentConsole({ width: 640, height: 480, actionTimeoutMs: 15_000 });
  const { scratch, shared } = useSharedFolder('file-manager');

  const transfer = (name: string) => `[data-testid=transfer][data-name="${name}"]`;

  it('the operator joins and the user turns on files', async () => {
    ui.startAgent({ filesRoot: shared, keepInput: true });
    await joinWithFiles(ui.page, ui.cp, ui.agent);
    await ui.page.waitForSelector('[data-testid=files-panel]');
  });

  it('a 50 MB download streams to disk through the service worker: the page never holds it and the saved file matches', {
    timeout: 180_000,
  }, async () => {
    const size = 50 * MIB;
    const content = randomBytes(size);
    writeFileSync(join(shared, 'disk-image.bin'), content);
    await ui.page.click('[data-testid=files-refresh]');
    await ui.page.waitForSelector('[data-testid=file-row][data-name="disk-image.bin"]');
    await downloadWorkerReady(ui.page);

    const cdp = await ui.page.context().newCDPSession(ui.page);
    const before = await liveBytes(cdp);
    const downloading = ui.page.waitForEvent('download', { timeout: 60_000 });
    await ui.page.click('[data-testid=file-row][data-name="disk-image.bin"] [data-testid=file-download]');
    const download = await downloading;
    // Not a blob: URL made from bytes held in the page, but the worker's URL answered with the stream.
    assert.ok(
      download.url().startsWith(`${ui.cp.url}${DOWNLOAD_SCOPE}`),
      `the download comes from the worker, not ${download.url()}`,
    );
    assert.equal(download.suggestedFilename(), 'disk-image.bin');

    // Sampled while the bytes flow: the page holds a window of the file, never the file.
    let most = 0;
    for (;;) {
      const status = await ui.page.getAttribute(transfer('disk-image.bin'), 'data-status');
      most = Math.max(most, (await liveBytes(cdp)) - before);
      if (status !== 'running' && status !== 'starting') break;
    }
    await ui.page.waitForSelector(`${transfer('disk-image.bin')}[data-status=done]`, { timeout: 120_000 });
    assert.ok(
      most < size / 5,
      `the page held ${most} bytes more than before, far below the ${size} of the file`,
    );
    assert.equal(await sha256OfFile((await download.path())!), sha256(content));
    await cdp.detach();
  });

  /** Pauses a transfer as soon as bytes flow and returns the bytes it had then. */
  async function pauseWhileRunning(name: string): Promise<number> {
    await ui.page.waitForSelector(`${transfer(name)}[data-status=running]:not([data-bytes="0"])`, {
      timeout: 30_000,
    });
    await ui.page.click(`${transfer(name)} [data-testid=transfer-pause]`);
    await ui.page.waitForSelector(`${transfer(name)}[data-status=paused]`);
    return Number(await ui.page.getAttribute(transfer(name), 'data-bytes'));
  }

  it('Pause stops a download and an upload; Resume continues each from the bytes already written, and both arrive with the same SHA-256', {
    timeout: 180_000,
  }, async () => {
    const size = 40 * MIB;
    const fetched = randomBytes(size);
    writeFileSync(join(shared, 'backup.tar'), fetched);
    await openFolder();
    await ui.page.click('[data-testid=files-refresh]');
    const downloading = ui.page.waitForEvent('download', { timeout: 60_000 });
    await ui.page.click('[data-testid=file-row][data-name="backup.tar"] [data-testid=file-download]');
    const heldAt = await pauseWhileRunning('backup.tar');
    assert.ok(heldAt > 0 && heldAt < size, `paused at ${heldAt} of ${size}`);
    assert.match(
      (await ui.page.textContent(`${transfer('backup.tar')} [data-testid=transfer-line]`)) ?? '',
      /paused$/,
    );
    await ui.page.click(`${transfer('backup.tar')} [data-testid=transfer-resume]`);
    await ui.page.waitForSelector(`${transfer('backup.tar')}[data-status=done]`, { timeout: 120_000 });
    assert.equal(await sha256OfFile((await (await downloading).path())!), sha256(fetched));

    const sent = randomBytes(size);
    const local = join(scratch, 'capture.pcap');
    writeFileSync(local, sent);
    await ui.page.setInputFiles('[data-testid=upload-input]', local);
    const sentAt = await pauseWhileRunning('capture.pcap');
    assert.ok(sentAt < size, `paused at ${sentAt} of ${size}`);
    // The agent keeps what it wrote in the part file until the upload resumes.
    const part = join(shared, 'capture.pcap.lifeline-part');
    await waitFor('the part file on the device', () => existsSync(part) && statSync(part).size > 0);
    assert.equal(existsSync(join(shared, 'capture.pcap')), false);
    await ui.page.click(`${transfer('capture.pcap')} [data-testid=transfer-resume]`);
    await ui.page.waitForSelector(`${transfer('capture.pcap')}[data-status=done]`, { timeout: 120_000 });
    assert.equal(await sha256OfFile(join(shared, 'capture.pcap')), sha256(sent));
    assert.equal(existsSync(part), false);
  });

  /** Opens the folder `path` of the shared folder in the file manager, from its top. */
  async function openFolder(...names: string[]): Promise<void> {
    if (await ui.page.locator('[data-testid=breadcrumb]').count())
      await ui.page.click('[data-testid=breadcrumb] >> nth=0');
    await ui.page.waitForFunction(() => !document.querySelector('[data-testid=breadcrumb]'));
    for (const name of names) {
      await ui.page.click(`[data-testid=file-row][data-name="${name}"] [data-testid=file-open]`);
      await ui.page.waitForFunction(
        (last) => document.querySelector('[aria-current=location]')?.textContent === last,
        name,
      );
    }
  }

  it('Copy puts a whole folder into another folder, Move takes a file there, and the originals are as they should be', async () => {
    const code = randomBytes(400_000);
    mkdirSync(join(shared, 'project', 'src'), { recursive: true });
    writeFileSync(join(shared, 'project', 'src', 'main.bin'), code);
    writeFileSync(join(shared, 'project', 'notes.txt'), 'notes');
    mkdirSync(join(shared, 'archive'));
    await ui.page.click('[data-testid=files-refresh]');
    await ui.page.click('[data-testid=file-row][data-name=project] [data-testid=file-copy]');
    await openFolder('archive');
    await ui.page.click('[data-testid=files-paste]');
    await ui.page.waitForSelector('[data-testid=file-row][data-name=project]');
    assert.equal(sha256(readFileSync(join(shared, 'archive', 'project', 'src', 'main.bin'))), sha256(code));
    assert.equal(readFileSync(join(shared, 'project', 'notes.txt'), 'utf8'), 'notes', 'the original stays');

    await openFolder('project');
    await ui.page.click('[data-testid=file-row][data-name="notes.txt"] [data-testid=file-move]');
    await openFolder('archive');
    await ui.page.click('[data-testid=files-paste]');
    await ui.page.waitForSelector('[data-testid=file-row][data-name="notes.txt"]');
    assert.equal(readFileSync(join(shared, 'archive', 'notes.txt'), 'utf8'), 'notes');
    assert.equal(existsSync(join(shared, 'project', 'notes.txt')), false, 'a move leaves nothing behind');
  });

  it('Upload folder sends a whole folder: its folders are created on the device and every file lands at its relative path with the same bytes', async () => {
    const local = join(scratch, 'site-logs');
    mkdirSync(join(local, 'nginx', 'old'), { recursive: true });
    const files = {
      'summary.txt': randomBytes(10_000),
      'nginx/access.log': randomBytes(900_000),
      'nginx/old/access.log.1': randomBytes(300_000),
    };
    for (const [path, content] of Object.entries(files)) writeFileSync(join(local, path), content);
    await openFolder('archive');
    await ui.page.setInputFiles('[data-testid=upload-folder-input]', local);
    // One action with one progress for the whole folder (README "Files").
    const upload = '[data-testid=action][data-kind=upload][data-title=site-logs]';
    await ui.page.waitForSelector(`${upload}[data-status=done]`, { timeout: 60_000 });
    assert.equal(await ui.page.getAttribute(upload, 'data-files-done'), '3');
    for (const [path, content] of Object.entries(files)) {
      assert.equal(sha256(readFileSync(join(shared, 'archive', 'site-logs', path))), sha256(content), path);
    }
    await ui.page.waitForSelector('[data-testid=file-row][data-name=site-logs]');
  });

  itEndsCleanly(ui);
});

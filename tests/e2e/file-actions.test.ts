import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { DOWNLOAD_SCOPE } from '../../console/app/tools/saving/worker-paths.ts';
import { DEFAULT_POLICY } from '../../protocol/index.ts';
import {
  downloadWorkerReady,
  itEndsCleanly,
  joinWithFiles,
  openConsole,
  useAgentConsole,
} from '../console/real-console.ts';
import { loginCookie } from '../support/control-plane.ts';
import { setDefaultGroupPolicy } from '../support/policies.ts';
import { useSharedFolder } from '../support/shared-folder.ts';

const MIB = 1024 * 1024;

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Lines of text that deflate well, as a log does. */
function logText(lines: number): Buffer {
  const out: string[] = [];
  for (let i = 0; i < lines; i++)
    out.push(`2026-12-07T01:00:${String(i % 60).padStart(2, '0')}Z GET /api/items/${i} 200`);
  return Buffer.from(out.join('\n'));
}

// Whole actions of the file manager (issue 14): several items chosen and acted on at once with one
// progress, in the real console, through the real control plane and relay, to a real agent process
// sharing a real folder.
describe('the file manager acts on several items at once: one zip, one delete, one copy, one upload of a dropped folder', () => {
  const ui = useAgentConsole({ width: 640, height: 480, actionTimeoutMs: 15_000 });
  const { scratch, shared } = useSharedFolder('file-actions');

  const row = (name: string) => `[data-testid=file-row][data-name="${name}"]`;
  const action = (kind: string, title: string) =>
    `[data-testid=action][data-kind=${kind}][data-title="${title}"]`;

  /** Opens `names`, one folder inside the other, from the top of the shared folder. */
  async function openFolder(...names: string[]): Promise<void> {
    if (await ui.page.locator('[data-testid=breadcrumb]').count())
      await ui.page.click('[data-testid=breadcrumb] >> nth=0');
    await ui.page.waitForFunction(() => !document.querySelector('[data-testid=breadcrumb]'));
    await ui.page.click('[data-testid=files-refresh]');
    for (const name of names) {
      await ui.page.click(`${row(name)} [data-testid=file-open]`);
      await ui.page.waitForFunction(
        (last) => document.querySelector('[aria-current=location]')?.textContent === last,
        name,
      );
    }
  }

  it('the operator joins and the user turns on files', async () => {
    ui.startAgent({ filesRoot: shared, keepInput: true });
    await joinWithFiles(ui.page, ui.cp, ui.agent);
    await ui.page.waitForSelector('[data-testid=files-panel]');
    await downloadWorkerReady(ui.page);
  });

  it('three files chosen with a click and a shift-click, and a folder, download as one zip: every file, every folder (an empty one too) and a Unicode name arrive as they are on the device', {
    timeout: 120_000,
  }, async () => {
    const bundle = join(shared, 'bundle');
    const contents: Record<string, Buffer> = {
      'a-data.bin': randomBytes(300_000),
      'b-notes.txt': logText(20_000),
      'c-Résumé – 履歴書.pdf': randomBytes(50_000),
      'photos/2024/img.jpg': randomBytes(2 * MIB),
      'photos/readme.md': Buffer.from('# Photos\n'),
    };
    mkdirSync(join(bundle, 'photos', '2024'), { recursive: true });
    mkdirSync(join(bundle, 'photos', 'empty'));
    for (const [path, content] of Object.entries(contents)) writeFileSync(join(bundle, path), content);
    writeFileSync(join(bundle, 'z-left-out.bin'), randomBytes(1000));
    await openFolder('bundle');

    await ui.page.click(`${row('a-data.bin')} [data-testid=file-select]`);
    await ui.page.click(`${row('c-Résumé – 履歴書.pdf')} [data-testid=file-select]`, {
      modifiers: ['Shift'],
    });
    // The box is a real checkbox: the keyboard ticks it too.
    await ui.page.focus(`${row('photos')} [data-testid=file-select]`);
    await ui.page.keyboard.press('Space');
    assert.equal(await ui.page.textContent('[data-testid=files-selected-count]'), '4 selected');
    assert.equal(await ui.page.locator(`${row('z-left-out.bin')}[data-selected]`).count(), 0);

    const downloading = ui.page.waitForEvent('download', { timeout: 60_000 });
    await ui.page.click('[data-testid=selection-download]');
    const download = await downloading;
    assert.ok(
      download.url().startsWith(`${ui.cp.url}${DOWNLOAD_SCOPE}`),
      `streamed by the worker: ${download.url()}`,
    );
    assert.equal(download.suggestedFilename(), 'bundle.zip');
    await ui.page.waitForSelector(`${action('download', 'bundle.zip')}[data-status=done]`, {
      timeout: 90_000,
    });
    // One progress for the whole action, counting files.
    const done = ui.page.locator(action('download', 'bundle.zip'));
    assert.equal(await done.getAttribute('data-files-done'), '5');
    assert.equal(await done.getAttribute('data-files-total'), '5');
    assert.match(
      (await done.locator('[data-testid=action-line]').textContent()) ?? '',
      /^Done · 5 of 5 files · /,
    );
    assert.equal(await ui.page.locator('[data-testid=transfer]').count(), 0, 'no bar per file');

    const saved = (await download.path())!;
    const unzipped = unzipSync(new Uint8Array(readFileSync(saved)));
    assert.deepEqual(Object.keys(unzipped).sort(), [
      'a-data.bin',
      'b-notes.txt',
      'c-Résumé – 履歴書.pdf',
      'photos/',
      'photos/2024/',
      'photos/2024/img.jpg',
      'photos/empty/',
      'photos/readme.md',
    ]);
    for (const [path, content] of Object.entries(contents)) {
      assert.equal(sha256(unzipped[path]!), sha256(content), path);
    }
    // fflate reads a name as UTF-8 only under the zip's UTF-8 flag (bit 11), so the Unicode name above
    // proves the flag. Info-ZIP checks every CRC; text is deflated, the rest stored. (Debian's unzip
    // prints such names mangled whatever the locale, so they are not compared there.)
    execFileSync('unzip', ['-tq', saved]);
    const listing = execFileSync('unzip', ['-v', saved], { encoding: 'utf8' });
    assert.match(listing, /Defl:N.*b-notes\.txt/);
    assert.match(listing, /Stored.*a-data\.bin/);
  });

  it('a file that changes midway stops the zip: the browser download fails, and the operator is told which file and why', {
    timeout: 120_000,
  }, async () => {
    const midway = join(shared, 'midway');
    mkdirSync(midway);
    writeFileSync(join(midway, 'first.txt'), 'first');
    writeFileSync(join(midway, 'second.bin'), randomBytes(40 * MIB));
    await openFolder();
    const downloading = ui.page.waitForEvent('download', { timeout: 60_000 });
    await ui.page.click(`${row('midway')} [data-testid=file-download]`);
    const download = await downloading;
    const zip = action('download', 'midway.zip');
    await ui.page.waitForSelector(`${zip}[data-current="midway/second.bin"][data-step=running]`, {
      timeout: 60_000,
    });
    await ui.page.click(`${zip} [data-testid=action-pause]`);
    await ui.page.waitForSelector(`${zip}[data-status=paused]`);
    // Another version of the file, larger than where the download stopped.
    writeFileSync(join(midway, 'second.bin'), randomBytes(41 * MIB));
    await ui.page.click(`${zip} [data-testid=action-resume]`);
    await ui.page.waitForSelector(`${zip}[data-status=failed]`, { timeout: 60_000 });
    const line = (await ui.page.textContent(`${zip} [data-testid=action-line]`)) ?? '';
    assert.match(
      line,
      /^midway\/second\.bin failed: The file changed on the device while it was downloading\./,
    );
    assert.match(line, /The zip was discarded; nothing was saved\.$/);
    assert.equal(await ui.page.getAttribute(zip, 'data-files-done'), '1');
    assert.ok(await download.failure(), 'the browser download failed instead of keeping a partial zip');
  });

  it('several items are deleted at once, a folder with everything in it, with one progress that counts every item', async () => {
    const trash = join(shared, 'trash');
    mkdirSync(join(trash, 'old', 'deep'), { recursive: true });
    writeFileSync(join(trash, 'x.txt'), 'x');
    writeFileSync(join(trash, 'y.txt'), 'y');
    writeFileSync(join(trash, 'old', 'deep', 'z.txt'), 'z');
    await openFolder('trash');
    await ui.page.click('[data-testid=file-select-all]');
    assert.equal(await ui.page.textContent('[data-testid=files-selected-count]'), '3 selected');
    await ui.page.click('[data-testid=selection-delete]');
    await ui.page.click('[data-testid=selection-delete][data-armed]');
    const deleting = action('delete', '3 items');
    await ui.page.waitForSelector(`${deleting}[data-status=done]`);
    assert.equal(await ui.page.getAttribute(deleting, 'data-files-total'), '5');
    assert.equal(await ui.page.textContent(`${deleting} [data-testid=action-line]`), 'Done · 5 of 5 items');
    for (const name of ['x.txt', 'y.txt', 'old']) assert.equal(existsSync(join(trash, name)), false, name);
    await ui.page.waitForSelector('.files__empty');
  });

  it('several items are copied into another folder at once, and moved back', async () => {
    const from = join(shared, 'from');
    mkdirSync(join(from, 'set'), { recursive: true });
    writeFileSync(join(from, 'one.txt'), 'one');
    writeFileSync(join(from, 'set', 'two.txt'), 'two');
    mkdirSync(join(shared, 'to'));
    await openFolder('from');
    await ui.page.click('[data-testid=file-select-all]');
    await ui.page.click('[data-testid=selection-copy]');
    await openFolder('to');
    await ui.page.click('[data-testid=files-paste]');
    await ui.page.waitForSelector(`${action('copy', '2 items')}[data-status=done]`);
    assert.equal(readFileSync(join(shared, 'to', 'one.txt'), 'utf8'), 'one');
    assert.equal(readFileSync(join(shared, 'to', 'set', 'two.txt'), 'utf8'), 'two');
    assert.equal(readFileSync(join(from, 'one.txt'), 'utf8'), 'one', 'a copy leaves the original');
  });

  it('a folder dropped onto the file manager is uploaded whole, its empty folder too, with one progress', {
    timeout: 120_000,
  }, async () => {
    const local = join(scratch, 'dropped-site');
    mkdirSync(join(local, 'css'), { recursive: true });
    mkdirSync(join(local, 'cache'));
    const files: Record<string, Buffer> = {
      'index.html': Buffer.from('<!doctype html>'),
      'css/site.css': logText(100),
      'big.bin': randomBytes(3 * MIB),
    };
    for (const [path, content] of Object.entries(files)) writeFileSync(join(local, path), content);
    mkdirSync(join(shared, 'inbox'));
    await openFolder('inbox');

    // A real drag from outside the page, with the folder's path, as the operating system sends it.
    const box = (await ui.page.locator('[data-testid=file-table], .files__list').first().boundingBox())!;
    const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const cdp = await ui.page.context().newCDPSession(ui.page);
    const data = { items: [], files: [local], dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
      await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
    }
    await cdp.detach();

    const upload = action('upload', 'dropped-site');
    await ui.page.waitForSelector(`${upload}[data-status=done]`, { timeout: 90_000 });
    assert.equal(await ui.page.getAttribute(upload, 'data-files-done'), '3');
    assert.equal(await ui.page.getAttribute(upload, 'data-files-total'), '3');
    for (const [path, content] of Object.entries(files)) {
      assert.equal(sha256(readFileSync(join(shared, 'inbox', 'dropped-site', path))), sha256(content), path);
    }
    assert.equal(existsSync(join(shared, 'inbox', 'dropped-site', 'cache')), true, 'the empty folder too');
  });

  itEndsCleanly(ui);

  it('where the agent shares every drive or mount, the top breadcrumb names the device and the next one the root, not the shared folder', async () => {
    await setDefaultGroupPolicy(ui.cp, await loginCookie(ui.cp.app), {
      ...DEFAULT_POLICY,
      filesAllRoots: true,
    });
    const agent = ui.startAgent({ filesRoot: shared, keepInput: true, args: ['--files-all-roots'] });
    const second = await openConsole(ui.browser, ui.cp);
    const roots = second.page;
    await roots.setViewportSize({ width: 1400, height: 900 });
    await joinWithFiles(roots, ui.cp, agent);
    const current = () => roots.textContent('[data-testid=breadcrumbs] [aria-current=location]');
    await roots.waitForSelector(`[data-testid=file-row][data-name="${encodeURIComponent('/')}"]`);
    assert.equal(await current(), 'This device');
    await roots.click(
      `[data-testid=file-row][data-name="${encodeURIComponent('/')}"] [data-testid=file-open]`,
    );
    await roots.waitForSelector('[data-testid=file-row][data-name=tmp]');
    assert.equal(await current(), '/');
    assert.deepEqual(await roots.locator('[data-testid=breadcrumb]').allTextContents(), ['This device']);
    assert.equal(await roots.getAttribute('[data-testid=breadcrumbs]', 'title'), '/');
    assert.deepEqual(second.problems, []);
    await roots.click('[data-testid=end-session]');
    await roots.waitForSelector('[data-testid=ended]');
    assert.equal(await ui.agent.exited, 0, ui.agent.output());
  });
});

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import type { Download } from 'playwright-core';
import {
  downloadWorkerReady,
  itEndsCleanly,
  joinWithFiles,
  useAgentConsole,
} from '../console/real-console.ts';
import { useSharedFolder } from '../support/shared-folder.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A budget an administrator could set (LIFELINE_RELAY_MESSAGE_BURST / …_PER_SECOND), small enough for a zip to outrun. */
const BURST = 6;
const PER_SECOND = 2;
/** Files in the zipped folder, and files downloaded one by one at once: each far past the burst. */
const FILES = 16;

// The console's answer to the relay's TOO_FREQUENT (console/app/tools/too-frequent.ts): a refused
// file request waits and is sent again. With the default budget (300 at once, 20/s) a zip, which asks
// about 11 files a second, never meets the relay's refusal; here the control plane is started with a
// small one, and each part asserts from the relay's own counter that requests were refused.
describe("file downloads outrun the relay's per-connection budget, are refused with TOO_FREQUENT, and complete by asking again", () => {
  const ui = useAgentConsole({
    width: 640,
    height: 480,
    actionTimeoutMs: 15_000,
    env: {
      LIFELINE_RELAY_MESSAGE_BURST: String(BURST),
      LIFELINE_RELAY_MESSAGES_PER_SECOND: String(PER_SECOND),
    },
  });
  const { shared } = useSharedFolder('download-budget');
  const row = (name: string) => `[data-testid=file-row][data-name="${name}"]`;
  const refused = () => ui.cp.services.relay.stats().overBudgetMessages;

  it('the operator joins and the user turns on files', async () => {
    ui.startAgent({ filesRoot: shared, keepInput: true });
    await joinWithFiles(ui.page, ui.cp, ui.agent);
    await ui.page.waitForSelector('[data-testid=files-panel]');
    await downloadWorkerReady(ui.page);
  });

  it('a folder downloaded as a zip holds every file with its bytes although the relay refused some of its requests', {
    timeout: 180_000,
  }, async () => {
    const contents = new Map<string, Buffer>();
    mkdirSync(join(shared, 'many', 'inner'), { recursive: true });
    for (let i = 0; i < FILES; i++)
      contents.set(`many/${i % 2 ? 'inner/' : ''}f${i}.bin`, randomBytes(10_000 + i));
    for (const [path, content] of contents) writeFileSync(join(shared, path), content);
    await ui.page.click('[data-testid=files-refresh]');
    const before = refused();

    const downloading = ui.page.waitForEvent('download', { timeout: 60_000 });
    await ui.page.click(`${row('many')} [data-testid=file-download]`);
    const download = await downloading;
    const zip = '[data-testid=action][data-kind=download][data-title="many.zip"]';
    await ui.page.waitForSelector(`${zip}:is([data-status=done], [data-status=failed])`, {
      timeout: 150_000,
    });
    assert.match(
      (await ui.page.textContent(`${zip} [data-testid=action-line]`)) ?? '',
      new RegExp(`^Done · ${FILES} of ${FILES} files`),
    );
    assert.ok(refused() > before, 'the relay refused some of the requests as too frequent');

    const unzipped = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
    assert.equal(Object.keys(unzipped).filter((name) => !name.endsWith('/')).length, FILES);
    for (const [path, content] of contents)
      assert.equal(sha256(unzipped[path] ?? new Uint8Array()), sha256(content), path);
  });

  it('files downloaded one by one, all at once, each arrive whole although the relay refused some of their requests', {
    timeout: 180_000,
  }, async () => {
    const contents = new Map<string, Buffer>();
    mkdirSync(join(shared, 'several'));
    for (let i = 0; i < FILES; i++) contents.set(`s${i}.bin`, randomBytes(20_000 + i));
    for (const [name, content] of contents) writeFileSync(join(shared, 'several', name), content);
    await ui.page.click('[data-testid=files-refresh]');
    await ui.page.click(`${row('several')} [data-testid=file-open]`);
    await ui.page.waitForSelector(`${row('s0.bin')}`);
    const downloads: Download[] = [];
    ui.page.on('download', (download) => downloads.push(download));
    const before = refused();

    // Every Download button clicked in one go, as an operator clicking down the list faster than the budget.
    await ui.page.$$eval('[data-testid=file-row] [data-testid=file-download]', (buttons) => {
      for (const button of buttons) (button as HTMLButtonElement).click();
    });
    await ui.page.waitForFunction(
      (count) =>
        document.querySelectorAll('[data-testid=transfer]:is([data-status=done], [data-status=failed])')
          .length === count,
      FILES,
      { timeout: 150_000 },
    );
    const failed = await ui.page.locator('[data-testid=transfer][data-status=failed]').allTextContents();
    assert.deepEqual(failed, [], 'no download failed');
    assert.ok(refused() > before, 'the relay refused some of the requests as too frequent');

    assert.equal(downloads.length, FILES);
    for (const download of downloads) {
      const content = contents.get(download.suggestedFilename());
      assert.ok(content, download.suggestedFilename());
      assert.equal(
        sha256(readFileSync((await download.path())!)),
        sha256(content),
        download.suggestedFilename(),
      );
    }
  });

  itEndsCleanly(ui);
});

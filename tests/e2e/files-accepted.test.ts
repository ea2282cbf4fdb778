import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { connectWithCode, launchConsoleBrowser, openConsole, screenshot } from '../console/real-console.ts';
import { shownCode, spawnAgent } from '../support/agent-process.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

// phion's files the user accepts, with everything real: the operator sends a file from the real
// console, the real agent asks its user in the terminal, and the answer (a name they chose, or a
// refusal) decides what lands in the shared folder and what the console says.
describe('in an attended session the user accepts or refuses each file the operator sends', () => {
  let xvfb: Xvfb;
  let cp: TestControlPlane;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let agent: Spawned;
  const scratch = mkdtempSync(join(tmpdir(), 'lifeline-e2e-accept-'));
  const shared = join(scratch, 'shared');

  before(async () => {
    mkdirSync(shared, { recursive: true });
    xvfb = await startXvfb({ width: 640, height: 480 });
    cp = await startControlPlane({ listen: true });
    browser = await launchConsoleBrowser();
    ({ page, problems } = await openConsole(browser, cp));
    await page.setViewportSize({ width: 1400, height: 900 });
    page.setDefaultTimeout(15_000);
  });

  after(async () => {
    await agent?.kill();
    await browser?.close();
    await cp?.stop();
    await xvfb?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const userTypes = (text: string) => agent.child.stdin?.write(text);
  const transfer = (name: string) => `[data-testid=transfer][data-name="${name}"]`;

  async function send(name: string, content: Uint8Array): Promise<void> {
    const local = join(scratch, name);
    writeFileSync(local, content);
    await page.setInputFiles('[data-testid=upload-input]', local);
    await page.waitForSelector(`${transfer(name)}[data-status=offered]`);
    assert.match(
      (await page.textContent(`${transfer(name)} [data-testid=transfer-line]`)) ?? '',
      /Waiting for the user to accept/,
    );
    await waitFor('the agent to ask the user about the file', () =>
      agent.output().includes(`to be saved as ${join(shared, name)}`),
    );
  }

  it('the user accepts the operator, with files allowed', async () => {
    agent = spawnAgent({
      server: cp.url,
      display: xvfb.display,
      filesRoot: shared,
      accept: false,
      keepInput: true,
    });
    const code = await shownCode(agent);
    const connected = connectWithCode(page, cp, code);
    await waitFor('the consent question', () => agent.output().includes('wants to connect'));
    userTypes('c\r');
    await connected;
    // File transfer starts off even when accepted: the user switches it on with its key.
    await waitFor('the session to be active on the agent', () => agent.output().includes('Session active'));
    userTypes('f');
    await page.waitForSelector('[data-testid=permission-files][data-state=on]');
    await page.click('[data-testid=tool-files]');
    await page.waitForSelector('[data-testid=upload-input]', { state: 'attached' });
  });

  it('a file the user accepts under a name they choose lands with that name and the same bytes, and the console says so', async () => {
    const content = randomBytes(700_000);
    await send('diagnostics.bin', content);
    assert.deepEqual(readdirSync(shared), [], 'nothing is written before the user answers');
    userTypes('r');
    userTypes('ticket-4711.bin\r');
    await waitFor('the new name', () =>
      agent.output().includes(`to be saved as ${join(shared, 'ticket-4711.bin')}`),
    );
    userTypes('y');
    await page.waitForSelector(`${transfer('diagnostics.bin')}[data-status=done]`, { timeout: 30_000 });
    const line = (await page.textContent(`${transfer('diagnostics.bin')} [data-testid=transfer-line]`)) ?? '';
    assert.match(line, /Accepted by the user · saved as ticket-4711\.bin/);
    assert.equal(sha256(readFileSync(join(shared, 'ticket-4711.bin'))), sha256(content));
    assert.deepEqual(readdirSync(shared), ['ticket-4711.bin'], 'only the chosen name, no part file');
    await screenshot(page, 'files-accepted');
  });

  it('a name leaving the shared folder is not taken: the user is asked again', async () => {
    const content = randomBytes(1000);
    await send('notes.txt', content);
    userTypes('r');
    userTypes('../escaped.txt\r');
    await waitFor('the refusal of the name', () => agent.output().includes('would leave the shared folder'));
    userTypes('y');
    await page.waitForSelector(`${transfer('notes.txt')}[data-status=done]`, { timeout: 30_000 });
    assert.deepEqual(readdirSync(scratch).sort(), ['diagnostics.bin', 'notes.txt', 'shared']);
    assert.equal(sha256(readFileSync(join(shared, 'notes.txt'))), sha256(content));
  });

  it('a file the user refuses leaves nothing on disk, and the console says the user refused it', async () => {
    await send('unwanted.exe', randomBytes(300_000));
    userTypes('n');
    await page.waitForSelector(`${transfer('unwanted.exe')}[data-status=refused]`);
    assert.equal(
      (await page.textContent(`${transfer('unwanted.exe')} [data-testid=transfer-line]`))?.trim(),
      'Refused by the user.',
    );
    assert.match(agent.output(), /You refused the file from /);
    assert.deepEqual(
      readdirSync(shared).sort(),
      ['notes.txt', 'ticket-4711.bin'],
      'no file and no part file',
    );
    await screenshot(page, 'files-refused');
  });

  it('nothing broke the console CSP or threw in the page', () => {
    assert.deepEqual(problems, []);
  });

  it('ending the session ends the agent', async () => {
    await page.click('[data-testid=end-session]');
    await page.waitForSelector('[data-testid=ended]');
    assert.equal(await agent.exited, 0, agent.output());
  });
});

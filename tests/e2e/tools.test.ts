import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connectWithCode, itEndsCleanly, useAgentConsole } from '../console/real-console.ts';
import { shownCode } from '../support/agent-process.ts';
import { waitFor } from '../support/processes.ts';
import { useSharedFolder } from '../support/shared-folder.ts';

/** Where screenshots of each panel go when `CONSOLE_SCREENSHOTS` names a directory. */
const SCREENSHOT_DIR = process.env['CONSOLE_SCREENSHOTS'];
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

// The operator's chat, terminal and file manager in the real console, through the real control
// plane and relay, to a real agent process with a real PTY and a real shared folder.
describe('the console reaches the agent with chat, a terminal and files', () => {
  const ui = useAgentConsole({ width: 800, height: 600, actionTimeoutMs: 15_000 });
  const { scratch, shared } = useSharedFolder('tools');
  mkdirSync(join(shared, 'Documents'));

  async function shot(name: string): Promise<void> {
    if (!SCREENSHOT_DIR) return;
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await ui.page.waitForTimeout(300);
    await ui.page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
  }

  /** Keys typed into the agent's terminal, as the end user would. */
  const userTypes = (text: string) => ui.agent.child.stdin?.write(text);

  it('the operator joins with the code; the user turns on files and shell', async () => {
    ui.startAgent({ filesRoot: shared, env: { SHELL: '/bin/sh' }, keepInput: true });
    const code = await shownCode(ui.agent);
    await connectWithCode(ui.page, ui.cp, code);
    // Files and shell start off even with --accept; the user switches them on with their keys.
    await waitFor('the session to be active on the agent', () =>
      ui.agent.output().includes('Session active'),
    );
    userTypes('f');
    await ui.page.waitForSelector('[data-testid=permission-files][data-state=on]');
    userTypes('s');
    await ui.page.waitForSelector('[data-testid=permission-shell][data-state=on]');
    for (const tool of ['chat', 'terminal', 'files'])
      await ui.page.waitForSelector(`[data-testid=tool-${tool}]`);
  });

  it('a chat message reaches the user, and the reply comes back with their name', async () => {
    await ui.page.click('[data-testid=tool-chat]');
    await ui.page.fill('[data-testid=chat-input]', 'Hello from the help desk');
    await ui.page.press('[data-testid=chat-input]', 'Enter');
    await waitFor('the agent to print the message', () =>
      ui.agent.output().includes('Hello from the help desk'),
    );
    assert.match(ui.agent.output(), /\[chat\] .+: Hello from the help desk/);

    userTypes('m');
    userTypes('Thanks, I can see it\r');
    await ui.page.waitForFunction(
      () =>
        [...document.querySelectorAll('[data-testid=chat-message][data-author-kind=user]')].some((line) =>
          line.textContent?.includes('Thanks, I can see it'),
        ),
      undefined,
      { timeout: 15_000 },
    );
    assert.equal(
      await ui.page.locator('[data-testid=chat-message][data-author-kind=mine]').count(),
      1,
      'the echo of our own message is one line',
    );
    await shot('e2e-chat');
  });

  it('a terminal runs a real shell: echo $((6*7)) prints 42', async () => {
    await ui.page.click('[data-testid=tool-terminal]');
    await ui.page.waitForSelector('[data-testid=terminal-pane][data-status=open]');
    await ui.page.click('[data-testid=terminal-screen]');
    await ui.page.keyboard.type('echo $((6*7))');
    await ui.page.keyboard.press('Enter');
    const rows = await waitFor('42 in the terminal', async () => {
      const lines = await ui.page.$$eval('[data-testid=terminal-screen] .xterm-rows > div', (divs) =>
        divs.map((div) => div.textContent?.trim() ?? ''),
      );
      return lines.includes('42') ? lines : undefined;
    });
    assert.ok(
      rows.some((line) => line.includes('echo $((6*7))')),
      rows.join('\n'),
    );
    await waitFor('the agent to show the shell to the user', () => /shell/i.test(ui.agent.output()));
    await shot('e2e-terminal');
  });

  it('an upload through the file input lands in the shared folder with identical bytes', async () => {
    const content = randomBytes(2_500_000);
    const local = join(scratch, 'diagnostics.bin');
    writeFileSync(local, content);
    await ui.page.click('[data-testid=tool-files]');
    await ui.page.waitForSelector('[data-testid=file-row][data-name=Documents]');
    await ui.page.click('[data-testid=file-row][data-name=Documents] [data-testid=file-open]');
    await ui.page.waitForFunction(() =>
      document.querySelector('[data-testid=breadcrumbs]')?.textContent?.endsWith('Documents'),
    );
    await ui.page.setInputFiles('[data-testid=upload-input]', local);
    await ui.page.waitForSelector('[data-testid=transfer][data-name="diagnostics.bin"][data-status=done]', {
      timeout: 30_000,
    });
    const stored = readFileSync(join(shared, 'Documents', 'diagnostics.bin'));
    assert.equal(sha256(stored), sha256(content));
    await ui.page.waitForSelector('[data-testid=file-row][data-name="diagnostics.bin"]');
  });

  it('a download saves the same bytes as the file on the device', async () => {
    const content = randomBytes(3_100_000);
    writeFileSync(join(shared, 'Documents', 'report.pdf'), content);
    await ui.page.click('[data-testid=files-refresh]');
    await ui.page.waitForSelector('[data-testid=file-row][data-name="report.pdf"]');
    const downloading = ui.page.waitForEvent('download', { timeout: 30_000 });
    await ui.page.click('[data-testid=file-row][data-name="report.pdf"] [data-testid=file-download]');
    const download = await downloading;
    assert.equal(download.suggestedFilename(), 'report.pdf');
    const saved = readFileSync((await download.path())!);
    assert.equal(sha256(saved), sha256(content));
    await ui.page.waitForSelector('[data-testid=transfer][data-name="report.pdf"][data-status=done]');
    await shot('e2e-files');
  });

  itEndsCleanly(ui);
});

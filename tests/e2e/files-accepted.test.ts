import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connectWithCode, itEndsCleanly, screenshot, useAgentConsole } from '../console/real-console.ts';
import { shownCode } from '../support/agent-process.ts';
import { waitFor } from '../support/processes.ts';
import { useSharedFolder } from '../support/shared-folder.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

// phion's files the user accepts, with everything real: the operator sends a file from the real
// console, the real agent asks its user in the terminal, and the answer (a name they chose, or a
// refusal) decides what lands in the shared folder and what the console says.
describe('in an attended session the user accepts or refuses each file the operator sends', () => {
  const ui = useAgentConsole({ width: 640, height: 480, actionTimeoutMs: 15_000 });
  const { scratch, shared } = useSharedFolder('accept');

  const userTypes = (text: string) => ui.agent.child.stdin?.write(text);
  const transfer = (name: string) => `[data-testid=transfer][data-name="${name}"]`;

  async function send(name: string, content: Uint8Array): Promise<void> {
    const local = join(scratch, name);
    writeFileSync(local, content);
    await ui.page.setInputFiles('[data-testid=upload-input]', local);
    await ui.page.waitForSelector(`${transfer(name)}[data-status=offered]`);
    assert.match(
      (await ui.page.textContent(`${transfer(name)} [data-testid=transfer-line]`)) ?? '',
      /Waiting for the user to accept/,
    );
    await waitFor('the agent to ask the user about the file', () =>
      ui.agent.output().includes(`to be saved as ${join(shared, name)}`),
    );
  }

  it('the user accepts the operator, with files allowed', async () => {
    ui.startAgent({ filesRoot: shared, accept: false, keepInput: true });
    const code = await shownCode(ui.agent);
    const connected = connectWithCode(ui.page, ui.cp, code);
    await waitFor('the consent question', () => ui.agent.output().includes('wants to connect'));
    userTypes('c\r');
    await connected;
    // File transfer starts off even when accepted: the user switches it on with its key.
    await waitFor('the session to be active on the agent', () =>
      ui.agent.output().includes('Session active'),
    );
    userTypes('f');
    await ui.page.waitForSelector('[data-testid=permission-files][data-state=on]');
    await ui.page.click('[data-testid=tool-files]');
    await ui.page.waitForSelector('[data-testid=upload-input]', { state: 'attached' });
  });

  it('a file the user accepts under a name they choose lands with that name and the same bytes, and the console says so', async () => {
    const content = randomBytes(700_000);
    await send('diagnostics.bin', content);
    assert.deepEqual(readdirSync(shared), [], 'nothing is written before the user answers');
    userTypes('r');
    userTypes('ticket-4711.bin\r');
    await waitFor('the new name', () =>
      ui.agent.output().includes(`to be saved as ${join(shared, 'ticket-4711.bin')}`),
    );
    userTypes('y');
    await ui.page.waitForSelector(`${transfer('diagnostics.bin')}[data-status=done]`, { timeout: 30_000 });
    const line =
      (await ui.page.textContent(`${transfer('diagnostics.bin')} [data-testid=transfer-line]`)) ?? '';
    assert.match(line, /Accepted by the user · saved as ticket-4711\.bin/);
    assert.equal(sha256(readFileSync(join(shared, 'ticket-4711.bin'))), sha256(content));
    assert.deepEqual(readdirSync(shared), ['ticket-4711.bin'], 'only the chosen name, no part file');
    await screenshot(ui.page, 'files-accepted');
  });

  it('a name leaving the shared folder is not taken: the user is asked again', async () => {
    const content = randomBytes(1000);
    await send('notes.txt', content);
    userTypes('r');
    userTypes('../escaped.txt\r');
    await waitFor('the refusal of the name', () =>
      ui.agent.output().includes('would leave the shared folder'),
    );
    userTypes('y');
    await ui.page.waitForSelector(`${transfer('notes.txt')}[data-status=done]`, { timeout: 30_000 });
    assert.deepEqual(readdirSync(scratch).sort(), ['diagnostics.bin', 'notes.txt', 'shared']);
    assert.equal(sha256(readFileSync(join(shared, 'notes.txt'))), sha256(content));
  });

  it('a file the user refuses leaves nothing on disk, and the console says the user refused it', async () => {
    await send('unwanted.exe', randomBytes(300_000));
    userTypes('n');
    await ui.page.waitForSelector(`${transfer('unwanted.exe')}[data-status=refused]`);
    assert.equal(
      (await ui.page.textContent(`${transfer('unwanted.exe')} [data-testid=transfer-line]`))?.trim(),
      'Refused by the user.',
    );
    assert.match(ui.agent.output(), /You refused the file from /);
    assert.deepEqual(
      readdirSync(shared).sort(),
      ['notes.txt', 'ticket-4711.bin'],
      'no file and no part file',
    );
    await screenshot(ui.page, 'files-refused');
  });

  itEndsCleanly(ui);
});

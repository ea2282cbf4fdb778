import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { TerminalUi } from '../../agent/node/terminal-ui.ts';

const ASKED = { view: true, control: true, chat: true, files: true, shell: false };
const OPERATOR = { id: 'op-1', name: 'Dana (help desk)' };

function terminal() {
  const input = new PassThrough() as PassThrough & NodeJS.ReadStream;
  const output = new PassThrough() as PassThrough & NodeJS.WriteStream;
  let screen = '';
  output.on('data', (chunk: Buffer) => {
    screen += chunk.toString();
  });
  const ui = new TerminalUi({ autoAccept: false, input, output });
  return { ui, input, screen: () => screen };
}

describe('the end user consents in the terminal, capability by capability', () => {
  it('shows who asks and what for, with control and files unticked until the user turns them on', async () => {
    const { ui, input, screen } = terminal();
    const answer = ui.askConsent(OPERATOR, ASKED);
    input.write('\n');
    const result = await answer;
    assert.match(screen(), /Dana \(help desk\) wants to connect/);
    assert.match(screen(), /\[c\] \[ \] control your mouse and keyboard/);
    assert.deepEqual(result, {
      accepted: true,
      permissions: { view: true, control: false, chat: true, files: false, shell: false },
    });
    ui.close();
  });

  it('a letter ticks a requested capability; one that was not requested cannot be ticked', async () => {
    const { ui, input } = terminal();
    const answer = ui.askConsent(OPERATOR, ASKED);
    input.write('cs\n');
    const result = await answer;
    assert.equal(result.permissions.control, true);
    assert.equal(result.permissions.shell, false);
    ui.close();
  });

  it('n refuses', async () => {
    const { ui, input } = terminal();
    const answer = ui.askConsent(OPERATOR, ASKED);
    input.write('n');
    assert.equal((await answer).accepted, false);
    ui.close();
  });

  it('during the session a letter switches a permission and q ends it', async () => {
    const { ui, input } = terminal();
    const toggled: string[] = [];
    let ended = false;
    ui.onToggle = (capability) => toggled.push(capability);
    ui.onEnd = () => {
      ended = true;
    };
    input.write('cv');
    input.write('q');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(toggled, ['control', 'view']);
    assert.equal(ended, true);
    ui.close();
  });
});

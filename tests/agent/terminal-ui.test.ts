import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { AgentSession } from '../../agent/core/agent-session.ts';
import { TerminalUi } from '../../agent/node/terminal-ui.ts';
import { ALL_PERMISSIONS, DEFAULT_OFFER, DEFAULT_POLICY, offerModes } from '../../protocol/index.ts';
import { permissionsWith } from '../support/permissions.ts';
import { waitFor } from '../support/processes.ts';

const ASKED = permissionsWith({ view: true, control: true, chat: true, files: true });
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
      permissions: permissionsWith({ view: true, chat: true }),
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

const CHAT_ON = permissionsWith({ view: true, chat: true });

/** A terminal with chat on whose sent messages are collected in `sent`. */
function chatTerminal() {
  const parts = terminal();
  const sent: string[] = [];
  parts.ui.onChat = (text) => {
    sent.push(text);
    return true;
  };
  parts.ui.permissionsChanged(CHAT_ON);
  return { ...parts, sent };
}

describe('the end user chats with the help desk and sees what the operator does', () => {
  it('shows a message from the help desk with its author and time, and how to answer', () => {
    const { ui, screen } = terminal();
    ui.permissionsChanged(CHAT_ON);
    const sentAt = new Date(2026, 10, 22, 14, 3).getTime();
    ui.chatReceived({ from: 'Dana (help desk)', text: 'Hello!\nCan you see my cursor?', sentAt });
    assert.match(screen(), /\[chat\] Dana \(help desk\), 14:03: Hello!\n\s+Can you see my cursor\?\n/);
    assert.match(screen(), /press m to answer/);
    ui.close();
  });

  it('m starts a message, Backspace edits it and Enter sends it', async () => {
    const { ui, input, screen, sent } = chatTerminal();
    input.write('mYes, I cam');
    input.write('\x7fn\n');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent, ['Yes, I can']);
    assert.match(screen(), /\[chat\] You, \d\d:\d\d: Yes, I can\n/);
    ui.close();
  });

  it('while a message is written, letters are text: they do not switch permissions or end the session', async () => {
    const { ui, input } = terminal();
    const toggled: string[] = [];
    let ended = false;
    let sent = '';
    ui.onToggle = (capability) => toggled.push(capability);
    ui.onEnd = () => {
      ended = true;
    };
    ui.onChat = (text) => {
      sent = text;
      return true;
    };
    ui.permissionsChanged(CHAT_ON);
    input.write('mquick vcs\n');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sent, 'quick vcs');
    assert.deepEqual(toggled, []);
    assert.equal(ended, false);
    ui.close();
  });

  it('Escape cancels a message, and with chat off m explains how to turn it on', async () => {
    const { ui, input, screen, sent } = chatTerminal();
    input.write('mnever mind\x1b');
    ui.permissionsChanged({ ...CHAT_ON, chat: false });
    input.write('mhello\n');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent, []);
    assert.match(screen(), /Message not sent/);
    assert.match(screen(), /Chat is off\. Press h to allow chat/);
    ui.close();
  });

  it("the operator's text cannot drive the terminal: escape sequences and line breaks are shown, not obeyed", () => {
    const { ui, screen } = terminal();
    ui.status('Dana runs a command: echo hi\x1b[2J\x1b[1;1H\nrm -rf ~');
    ui.chatReceived({ from: 'Dana\x1b[31m', text: 'look\x07\u202eexe.txt', sentAt: Date.now() });
    for (const control of ['\x1b', '\x07', '\u202e'])
      assert.ok(!screen().includes(control), JSON.stringify(control));
    assert.match(screen(), /echo hi�\[2J�\[1;1H ⏎ rm -rf ~/);
    ui.close();
  });

  it('the consent question names the shared folder for files and shells', async () => {
    const input = new PassThrough() as PassThrough & NodeJS.ReadStream;
    const output = new PassThrough() as PassThrough & NodeJS.WriteStream;
    let text = '';
    output.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const ui = new TerminalUi({ autoAccept: false, input, output, filesRoot: '/home/ada' });
    const answer = ui.askConsent(OPERATOR, { ...ASKED, shell: true });
    input.write('\n');
    await answer;
    assert.match(text, /\[f\] \[ \] transfer files in \/home\/ada/);
    assert.match(text, /\[s\] \[ \] run commands as you, starting in \/home\/ada/);
    ui.close();
  });
});

describe('the end user is told when the session is recorded', () => {
  /** An agent session under a policy: what it tells the terminal before anything is asked. */
  function sessionUnder(recordingMandatory: boolean) {
    const t = terminal();
    new AgentSession({
      relayUrl: 'ws://127.0.0.1:1',
      token: 't',
      client: { name: 'a', version: '0' },
      ui: t.ui,
      screen: { start: async () => ({ stop: async () => {}, requestKeyframe: () => {} }) },
      input: { apply: () => {}, releaseAll: () => {} },
      policy: { ...DEFAULT_POLICY, recordingMandatory },
    });
    return t;
  }

  it('under a policy that makes recording mandatory, the consent prompt and the session status say so', async () => {
    const { ui, input, screen } = sessionUnder(true);
    const answer = ui.askConsent(OPERATOR, ASKED);
    input.write('\n');
    await answer;
    assert.match(
      screen(),
      /wants to connect[\s\S]*This session is recorded by your help desk\.[\s\S]*Enter to accept/,
    );
    const before = screen().length;
    ui.permissionsChanged(ASKED);
    assert.match(screen().slice(before), /Session active[\s\S]*This session is recorded by your help desk\./);
    ui.close();
  });

  it('without that policy, nothing claims the session is recorded', async () => {
    const { ui, input, screen } = sessionUnder(false);
    const answer = ui.askConsent(OPERATOR, ASKED);
    input.write('\n');
    await answer;
    ui.permissionsChanged(ASKED);
    assert.doesNotMatch(screen(), /recorded/);
    ui.close();
  });
});

describe('an operator asks the end user for more during the session', () => {
  const NOTHING = permissionsWith({});
  const MISSING = { ...NOTHING, files: true, shell: true };

  function sharing(autoAccept: boolean) {
    const input = new PassThrough() as PassThrough & NodeJS.ReadStream;
    const output = new PassThrough() as PassThrough & NodeJS.WriteStream;
    let text = '';
    output.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const ui = new TerminalUi({ autoAccept, input, output, filesRoot: '/home/ana' });
    return { ui, input, screen: () => text };
  }

  it('names who asks and what for, ticked; Enter allows the ticked ones', async () => {
    const { ui, input, screen } = sharing(false);
    const answer = ui.askMore({ id: 'op-1', name: 'Bea' }, MISSING);
    input.write('\n');
    assert.deepEqual(await answer, MISSING);
    assert.match(
      screen(),
      /Bea asks to also: \[f\] \[x\] transfer files in \/home\/ana {2}\[s\] \[x\] run commands as you, starting in \/home\/ana\n/,
    );
    assert.match(screen(), /Enter allows the ticked ones, n refuses/);
    ui.close();
  });

  it('a letter unticks one item; a letter for something not asked changes nothing', async () => {
    const { ui, input } = sharing(false);
    const answer = ui.askMore({ id: 'op-1', name: 'Bea' }, MISSING);
    input.write('sc\n');
    assert.deepEqual(await answer, { ...NOTHING, files: true });
    ui.close();
  });

  it('n refuses everything', async () => {
    const { ui, input } = sharing(false);
    const answer = ui.askMore({ id: 'op-1', name: 'Bea' }, MISSING);
    input.write('n');
    assert.deepEqual(await answer, NOTHING);
    ui.close();
  });

  it('with --accept everything asked is allowed without a key, and the user is told', async () => {
    const { ui, screen } = sharing(true);
    assert.deepEqual(await ui.askMore({ id: 'op-1', name: 'Bea' }, MISSING), MISSING);
    assert.match(
      screen(),
      /Bea asked to also: transfer files in \/home\/ana, .*Allowed automatically \(--accept\)/,
    );
    ui.close();
  });
});

describe('the end user decides who else joins and sees who is connected', () => {
  const SAM = { id: 'op-2', name: 'Sam (second line)' };

  it('an additional operator is let in with Enter and refused with n', async () => {
    const { ui, input, screen } = terminal();
    const letIn = ui.askJoin(SAM);
    input.write('\n');
    assert.equal(await letIn, true);
    assert.match(screen(), /Sam \(second line\) also wants to join this session/);
    const refused = ui.askJoin(SAM);
    input.write('n');
    assert.equal(await refused, false);
    ui.close();
  });

  it('lists who is connected and who is in control, and r then a number removes that operator', async () => {
    const { ui, input, screen } = terminal();
    const removed: number[] = [];
    ui.onRemove = (slot) => removed.push(slot);
    ui.permissionsChanged(permissionsWith({ view: true, control: true, chat: true }));
    ui.operatorsChanged([
      { slot: 3, name: OPERATOR.name, inControl: true },
      { slot: 7, name: SAM.name, inControl: false },
    ]);
    assert.match(
      screen(),
      /Connected: Dana \(help desk\) \(in control\), Sam \(second line\)\. Press r to remove one/,
    );
    input.write('r2');
    await new Promise((resolve) => setImmediate(resolve));
    assert.match(screen(), /Remove which operator\? \[1\] Dana \(help desk\) {2}\[2\] Sam \(second line\)/);
    assert.deepEqual(removed, [7]);
    // Any other key cancels, and does not switch a permission either.
    const toggled: string[] = [];
    ui.onToggle = (capability) => toggled.push(capability);
    input.write('rc');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([removed, toggled], [[7], []]);
    assert.match(screen(), /Nobody removed/);
    ui.close();
  });
});

describe('the end user chooses in the terminal to share one window (README "Sharing one window")', () => {
  function withWindows() {
    const t = terminal();
    const shared: Array<number | null> = [];
    t.ui.windows = {
      titles: async () => ['Mail', 'Invoice.ods - LibreOffice Calc'],
      share: async (index) => {
        shared.push(index);
        return true;
      },
    };
    return { ...t, shared };
  }

  it('on the consent screen, w lists the windows and a number shares that one before anything is seen', async () => {
    const { ui, input, screen, shared } = withWindows();
    const answer = ui.askConsent(OPERATOR, ASKED);
    assert.match(screen(), /\[w\] They see: the whole screen/);
    input.write('w');
    await waitFor('the window list', () => (/\[2\] Invoice\.ods/.test(screen()) ? true : undefined));
    input.write('2');
    await waitFor('the consent screen again', () =>
      /They see: only "Invoice\.ods - LibreOffice Calc"/.test(screen()) ? true : undefined,
    );
    input.write('\n');
    assert.equal((await answer).accepted, true);
    assert.deepEqual(shared, [1]);
    ui.close();
  });

  it('during the session, w then 0 shares the whole screen again; any other key changes nothing', async () => {
    const { ui, input, screen, shared } = withWindows();
    input.write('w');
    await waitFor('the window list', () => (/\[0\] the whole screen/.test(screen()) ? true : undefined));
    input.write('x');
    await waitFor('the cancel', () => (/Nothing changed/.test(screen()) ? true : undefined));
    input.write('w');
    await waitFor('the list again', () =>
      screen().split('Share which window?').length === 3 ? true : undefined,
    );
    input.write('0');
    await waitFor('the choice', () => (shared.length === 1 ? true : undefined));
    assert.deepEqual(shared, [null]);
    ui.close();
  });
});

describe('the consent screen and the order of session modes', () => {
  it('says control was asked for but the policy starts the session in guidance, and lets the user pick view only instead', async () => {
    const { ui, input, screen } = terminal();
    const noControl = { ...ALL_PERMISSIONS, control: false, shell: false, files: false, clipboard: false };
    const modes = offerModes({ ...DEFAULT_OFFER, control: true }, noControl);
    const answer = ui.askConsent(OPERATOR, modes.offer, modes);
    // Guidance starts ticked; the user unticks it and keeps viewing and chat.
    input.write('g');
    input.write('\n');
    const result = await answer;
    assert.match(
      screen(),
      /They asked for control, which this device's policy does not allow: the session starts in guidance/,
    );
    assert.match(screen(), /\[g\] \[x\] show their pointer and marks on your screen/);
    assert.doesNotMatch(screen(), /\[c\]/, 'control is not offered at all');
    assert.equal(result.permissions.guidance, false);
    assert.equal(result.permissions.view, true);
    assert.equal(result.permissions.control, false);
    ui.close();
  });
});

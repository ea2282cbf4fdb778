import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, afterEach, before, describe, it } from 'node:test';
import { commandClipboard } from '../../agent/node/command-clipboard.ts';
import { createLinuxPlatform } from '../../agent/platform/linux.ts';
import {
  ALL_PERMISSIONS,
  DEFAULT_POLICY,
  MAX_CLIPBOARD_CHARS,
  type Permissions,
} from '../../protocol/index.ts';
import { waitFor } from '../support/processes.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';
import { startAgent, type TestAgent } from './channel-relay.ts';

const WITHOUT_CLIPBOARD: Permissions = { ...ALL_PERMISSIONS, clipboard: false };

/** What the X display's clipboard holds, as another program there would paste it. */
function displayClipboard(display: string): string {
  try {
    return execFileSync('xclip', ['-selection', 'clipboard', '-o'], {
      env: { ...process.env, DISPLAY: display },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    });
  } catch {
    return '';
  }
}

/** Copies `text` on the display, as the end user would in any program (xclip forks and serves it). */
function copyOnDisplay(display: string, text: string): void {
  execFileSync('xclip', ['-selection', 'clipboard', '-i'], {
    env: { ...process.env, DISPLAY: display },
    input: text,
    stdio: ['pipe', 'ignore', 'ignore'],
    timeout: 5_000,
  });
}

// The real agent core with the real xclip on a real Xvfb, behind a test relay that checks nothing:
// every refusal seen here is the agent's own.
describe('the agent shares the clipboard text both ways only while the user allows it', () => {
  let xvfb: Xvfb;
  let agent: TestAgent | undefined;

  before(async () => {
    xvfb = await startXvfb({ width: 320, height: 240 });
  });
  after(async () => {
    await xvfb?.stop();
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
  });

  async function started(permissions: Permissions, policy = DEFAULT_POLICY): Promise<TestAgent> {
    const { clipboard } = createLinuxPlatform({ DISPLAY: xvfb.display });
    assert.ok(clipboard, 'Linux shares the clipboard');
    agent = await startAgent({ hosts: 'none', permissions, policy, clipboard: commandClipboard(clipboard) });
    return agent;
  }

  /** Resolves once the agent handled everything sent before it (it answers in order). */
  async function settled(run: TestAgent, id: number): Promise<void> {
    run.relay.send({ type: 'ping', id });
    await run.relay.until(() => run.relay.messages('pong').some((pong) => pong.id === id), 'the pong');
  }

  it('offers the clipboard as a feature when the platform has one', async () => {
    const run = await started(WITHOUT_CLIPBOARD);
    assert.ok(run.relay.hello?.client.features?.includes('clipboard'));
  });

  it("an operator's text is not put on the clipboard while the user does not allow it, and is once they do", async () => {
    const run = await started(WITHOUT_CLIPBOARD);
    run.relay.send({ type: 'clipboard', text: 'not yet' });
    await settled(run, 1);
    assert.notEqual(displayClipboard(xvfb.display), 'not yet');
    assert.equal(run.session.currentPermissions.clipboard, false);

    await run.session.setPermissions(ALL_PERMISSIONS);
    run.relay.send({ type: 'clipboard', text: 'ssh admin@example.org ✓' });
    await waitFor('the text on the X clipboard', () =>
      displayClipboard(xvfb.display) === 'ssh admin@example.org ✓' ? true : undefined,
    );
    assert.ok(run.user.statuses.some((line) => /put text \(23 characters\) on your clipboard/.test(line)));
  });

  it('text copied on the display arrives as a clipboard message while allowed; what was there before is not sent', async () => {
    copyOnDisplay(xvfb.display, 'copied before the session');
    const run = await started(ALL_PERMISSIONS);
    await waitFor('the agent to read the clipboard once', () => run.relay.received.length > 0);
    copyOnDisplay(xvfb.display, 'copied during the session');
    const message = await run.relay.next('clipboard');
    assert.deepEqual(message, { type: 'clipboard', text: 'copied during the session' });
    assert.ok(!run.relay.messages('clipboard').some((m) => m.text === 'copied before the session'));
    assert.ok(run.user.statuses.some((line) => /Text you copied \(25 characters\) was sent/.test(line)));
  });

  it('a copy longer than the limit is announced with its length, never its text', async () => {
    const run = await started(ALL_PERMISSIONS);
    await settled(run, 2);
    const long = 'x'.repeat(MAX_CLIPBOARD_CHARS + 5);
    copyOnDisplay(xvfb.display, long);
    const message = await run.relay.next('clipboard');
    assert.deepEqual(message, { type: 'clipboard', text: '', tooLong: MAX_CLIPBOARD_CHARS + 5 });
  });

  it('nothing of the clipboard reaches the operators once the user turns it off', async () => {
    const run = await started(ALL_PERMISSIONS);
    await run.session.setPermissions(WITHOUT_CLIPBOARD);
    copyOnDisplay(xvfb.display, 'private after revoking');
    // Two polls' worth of pings: each pong comes after the agent had the chance to read and send.
    for (let id = 10; id < 14; id++) {
      await settled(run, id);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.deepEqual(run.relay.messages('clipboard'), []);
  });

  it("a policy that forbids the clipboard keeps it off whatever the user allows, and drops the operator's text", async () => {
    const policy = { ...DEFAULT_POLICY, modes: { ...DEFAULT_POLICY.modes, clipboard: false } };
    const run = await started(ALL_PERMISSIONS, policy);
    await run.session.setPermissions(ALL_PERMISSIONS);
    assert.equal(run.session.currentPermissions.clipboard, false);
    run.relay.send({ type: 'clipboard', text: 'forbidden by policy' });
    await settled(run, 3);
    assert.notEqual(displayClipboard(xvfb.display), 'forbidden by policy');
  });
});

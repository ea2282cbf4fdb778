import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { invitations, sessions } from '../../control-plane/db/schema.ts';
import { GuessThrottle } from '../../control-plane/throttle/guess-throttle.ts';
import { spawnAgent } from '../support/agent-process.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, spawnCollecting, waitFor } from '../support/processes.ts';
import { spawnOnPty } from '../support/pty.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';
import {
  api,
  type ConsolePage,
  launchConsoleBrowser,
  openConsole,
  screenshot,
  signIn,
} from './real-console.ts';

/** The password the end user sets and tells the helper by phone. */
const PASSWORD = 'blue-kettle-42';
const AGENT_INFO = { name: 'lifeline-agent', version: '0.0.0', hostname: 'pc-7', os: 'linux' };

interface Problem {
  code: string;
  detail: string;
}

// Windows Remote Assistance's invitations with everything real: the end user creates the invitation
// from the real agent (link, file, password typed in its terminal), the helper opens the link in the
// real console with the password, and the user still accepts or refuses in the agent.
describe('invitations with a password, from the real agent to the real console', () => {
  let xvfb: Xvfb;
  let cp: TestControlPlane;
  let browser: Browser;
  let view: ConsolePage;
  let agent: Spawned | undefined;
  const scratch = mkdtempSync(join(tmpdir(), 'lifeline-invitation-'));
  const file = join(scratch, 'help-me.lifeline-invitation');
  let link = '';
  let invitationId = '';

  before(async () => {
    xvfb = await startXvfb({ width: 640, height: 480 });
    cp = await startControlPlane({ listen: true });
    browser = await launchConsoleBrowser();
    view = await openConsole(browser, cp);
    await signIn(view.page, cp);
  });

  after(async () => {
    await agent?.kill();
    await view?.context.close();
    await browser?.close();
    await cp?.stop();
    await xvfb?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const open = (id: string, password: string, expect: number) =>
    api<Problem>(cp, 'POST', `/api/invitations/${id}/open`, { body: { password }, expect });
  const failures = (sessionId: string) =>
    api<{ items: { action: string; details: Record<string, unknown> | null }[] }>(
      cp,
      'GET',
      `/api/audit-events?sessionId=${sessionId}&action=invitation.open-failed`,
    );

  it('the user creates an invitation in the agent: a link and a file for the helper, the password kept only as a slow hash', async () => {
    agent = spawnAgent({
      server: cp.url,
      display: xvfb.display,
      accept: false,
      keepInput: true,
      args: ['--invite', '--invite-minutes', '30', '--invitation-file', file],
    });
    await waitFor('the password question', () => agent!.output().includes('Choose a password'));
    agent.child.stdin?.write('short\n');
    await waitFor('the length rule', () => agent!.output().includes('at least 8 characters'));
    agent.child.stdin?.write(`${PASSWORD}\n${PASSWORD}\n`);
    link = await waitFor(
      'the invitation link',
      () => /(http:\S+#\/sessions\?invitation=\S+)/.exec(agent!.output())?.[1],
    );
    invitationId = new URL(link.replace('#/sessions', '/sessions')).searchParams.get('invitation')!;
    assert.ok(link.startsWith(cp.url), link);
    assert.match(agent.output(), /expires at \d\d:\d\d \(in 30 minutes\)/);
    assert.match(agent.output(), /Tell them the password yourself/);

    const written = JSON.parse(readFileSync(file, 'utf8')) as {
      lifeline: string;
      link: string;
      expiresAt: string;
    };
    assert.equal(written.lifeline, 'invitation');
    assert.equal(written.link, link);
    assert.ok(!readFileSync(file, 'utf8').includes(PASSWORD), 'the file never holds the password');

    const [row] = await cp.services.db.select().from(invitations).where(eq(invitations.id, invitationId));
    assert.ok(row, 'the invitation is stored');
    assert.match(row.passwordHash, /^scrypt\$/);
    assert.ok(!row.passwordHash.includes(PASSWORD));
    const [session] = await cp.services.db.select().from(sessions).where(eq(sessions.id, row.sessionId));
    assert.equal(session?.codeHash, null, 'the session has no connection code to guess instead');
    assert.ok(!agent.output().includes(PASSWORD), 'the agent does not print the password');
  });

  it('the helper opens the invitation file in the console; a file for another server or not an invitation is refused, saying why', async () => {
    const { page } = view;
    await page.goto(cp.url);
    const foreign = join(scratch, 'elsewhere.lifeline-invitation');
    writeFileSync(
      foreign,
      readFileSync(file, 'utf8').replace(new URL(cp.url).origin, 'https://help.example.org'),
    );
    await page.setInputFiles('[data-testid=invitation-file]', foreign);
    await page.waitForFunction(() =>
      document
        .querySelector('[data-testid=error]')
        ?.textContent?.includes('for https://help.example.org, not this console'),
    );
    const notOne = join(scratch, 'holiday.json');
    writeFileSync(notOne, JSON.stringify({ lifeline: 'holiday', link: link }));
    await page.setInputFiles('[data-testid=invitation-file]', notOne);
    await page.waitForFunction(() =>
      document
        .querySelector('[data-testid=error]')
        ?.textContent?.includes('holiday.json: This file is not a Lifeline invitation'),
    );

    await page.setInputFiles('[data-testid=invitation-file]', file);
    await page.waitForSelector('[data-testid=invitation-card][data-status=open]');
    assert.equal(new URL(page.url()).hash, `#/sessions?invitation=${invitationId}`);
  });

  it('wrong passwords are refused with PASSWORD_WRONG and audited, then slowed down with TOO_FREQUENT, even for the right one', async () => {
    // A long delay so the refusal cannot be outwaited by a slow machine between two requests.
    cp.services.invitationThrottle = new GuessThrottle({ freeFailures: 3, baseDelayMs: 60_000 });
    const { page } = view;
    await page.goto(link);
    await page.waitForSelector('[data-testid=invitation-card][data-status=open]');
    await page.fill('[data-testid=invitation-password]', 'not-the-password');
    await page.click('[data-testid=invitation-open]');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=error]')?.textContent?.includes('not the password'),
    );
    for (let guess = 2; guess <= 4; guess++) {
      const refused = await open(invitationId, `wrong guess ${guess}`, 403);
      assert.equal(refused.code, 'PASSWORD_WRONG');
    }
    const throttled = await open(invitationId, PASSWORD, 429);
    assert.equal(throttled.code, 'TOO_FREQUENT');

    const [row] = await cp.services.db.select().from(invitations).where(eq(invitations.id, invitationId));
    const audited = await failures(row!.sessionId);
    assert.equal(audited.items.length, 4, 'each wrong password is audited');
    assert.ok(audited.items.every((event) => event.details?.['result'] === 'PASSWORD_WRONG'));
    assert.ok(
      !JSON.stringify(audited).includes('wrong guess') &&
        !JSON.stringify(audited).includes('not-the-password'),
      'the audit never holds a guessed password',
    );
    assert.equal(row!.openedAt, null, 'nothing opened it');
    assert.ok(!agent!.output().includes('wants to connect'), 'the user was not asked for anyone');
  });

  it('the right password in the console connects, and the user is asked and accepts in the agent', async () => {
    cp.services.invitationThrottle = new GuessThrottle();
    const { page } = view;
    await page.goto(link);
    await page.reload();
    await page.waitForSelector('[data-testid=invitation-card][data-status=open]');
    await page.fill('[data-testid=invitation-password]', PASSWORD);
    await screenshot(page, 'invitation-password');
    await page.click('[data-testid=invitation-open]');
    await page.waitForSelector('body[data-view=session]', { timeout: 30_000 });
    await waitFor('the user to be asked', () =>
      agent!.output().includes('wants to connect to this computer'),
    );
    assert.doesNotMatch(
      (await page.textContent('[data-testid=session-status]')) ?? '',
      /^Connected to /,
      'nothing is shared before the user accepts',
    );
    agent!.child.stdin?.write('\r');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=session-status]')?.textContent?.startsWith('Connected'),
      undefined,
      { timeout: 30_000 },
    );
    const opened = await open(invitationId, PASSWORD, 409);
    assert.equal(opened.code, 'INVITATION_USED', 'an invitation works once');
    const audit = await api<{ items: { action: string }[] }>(
      cp,
      'GET',
      '/api/audit-events?action=invitation.open',
    );
    assert.equal(audit.items.length, 1);

    await page.click('[data-testid=end-session]');
    await page.waitForSelector('[data-testid=ended]');
    assert.equal(await agent!.exited, 0, agent!.output());
  });

  it('an expired invitation is refused with INVITATION_EXPIRED, and the console says so before asking a password', async () => {
    const created = await api<{ invitationId: string; link: string }>(cp, 'POST', '/api/agent/invitations', {
      body: { ...AGENT_INFO, expiresInMinutes: 5, password: PASSWORD },
      expect: 201,
    });
    await cp.services.db
      .update(invitations)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(invitations.id, created.invitationId));
    const refused = await open(created.invitationId, PASSWORD, 410);
    assert.equal(refused.code, 'INVITATION_EXPIRED');
    assert.match(refused.detail, /expired/);

    const { page } = view;
    await page.goto(created.link);
    await page.reload();
    await page.waitForSelector('[data-testid=invitation-card][data-status=expired]');
    assert.match((await page.textContent('[data-testid=invitation-card]')) ?? '', /has expired/);
    assert.equal(await page.locator('[data-testid=invitation-password]').count(), 0);
  });

  it('an invitation nobody opens ends the waiting agent when it expires, and the agent says so', async () => {
    const waiting = spawnAgent({
      server: cp.url,
      display: xvfb.display,
      keepInput: true,
      args: ['--invite', '--invite-minutes', '5'],
    });
    try {
      await waitFor('the password question', () => waiting.output().includes('Choose a password'));
      waiting.child.stdin?.write(`${PASSWORD}\n${PASSWORD}\n`);
      const id = await waitFor(
        'the invitation link',
        () => /#\/sessions\?invitation=(\S+)/.exec(waiting.output())?.[1],
      );
      const [row] = await cp.services.db.select().from(invitations).where(eq(invitations.id, id));
      // The relay's own expiry timer, moved to now instead of waiting five minutes (again until it
      // took: the timer is set only once the agent's socket is attached).
      await waitFor(
        'the agent to end',
        () => {
          cp.services.relay.codeExtended(row!.sessionId, new Date());
          return waiting.child.exitCode !== null;
        },
        60_000,
      );
      assert.equal(waiting.child.exitCode, 0, waiting.output());
      assert.match(waiting.output(), /Session ended: the invitation expired before a helper opened it/);
      const status = await api<{ status: string }>(cp, 'GET', `/api/invitations/${id}`);
      assert.equal(status.status, 'expired');
    } finally {
      await waiting.kill();
    }
  });

  it('an agent started with nothing offers an invitation at its code question, and asks how long it stays open', async () => {
    // As a person who was only sent the executable runs it: no --server, no --code.
    const asked = spawnCollecting(process.execPath, ['--import', 'tsx', 'agent/main.ts'], {
      ...process.env,
      DISPLAY: xvfb.display,
    });
    try {
      asked.child.stdin?.write(`${cp.url}\n`);
      await waitFor('the code question', () =>
        asked.output().includes('or i to invite a helper with a link'),
      );
      asked.child.stdin?.write('i\n');
      await waitFor('the expiry question', () => asked.output().includes('How many minutes'));
      asked.child.stdin?.write(`45\n${PASSWORD}\n${PASSWORD}\n`);
      const shown = await waitFor(
        'the invitation link',
        () => /#\/sessions\?invitation=(\S+)/.exec(asked.output())?.[1],
      );
      assert.match(asked.output(), /\(in 45 minutes\)/);
      const [row] = await cp.services.db.select().from(invitations).where(eq(invitations.id, shown));
      const minutes = (row!.expiresAt.getTime() - row!.createdAt.getTime()) / 60_000;
      assert.equal(Math.round(minutes), 45);
    } finally {
      await asked.kill();
    }
  });

  it('in a terminal, the invitation password is not shown as it is typed, and backspace edits it', async () => {
    const onTerminal = spawnOnPty(
      process.execPath,
      ['--import', 'tsx', 'agent/main.ts', '--server', cp.url, '--invite', '--invite-minutes', '30'],
      { ...process.env, DISPLAY: xvfb.display },
    );
    try {
      await waitFor('the password question', () => onTerminal.output().includes('Choose a password'));
      onTerminal.write('shortpw\r');
      await waitFor('the length rule', () => onTerminal.output().includes('at least 8 characters'));
      await waitFor('the question again', () => onTerminal.output().split('Choose a password').length > 2);
      onTerminal.write(`${PASSWORD}\r`);
      await waitFor('the second question', () => onTerminal.output().includes('Type the password again'));
      // A typo taken back with backspace: the edited line is the password.
      onTerminal.write(`${PASSWORD}x\x7f\r`);
      const typedLink = await waitFor(
        'the invitation link',
        () => /(http:\S+#\/sessions\?invitation=\S+)/.exec(onTerminal.output())?.[1],
      );
      assert.ok(typedLink.startsWith(cp.url), typedLink);
      assert.ok(!onTerminal.output().includes(PASSWORD), 'the terminal never showed the password');
      assert.ok(!onTerminal.output().includes('shortpw'), 'nor the refused one');
    } finally {
      await onTerminal.kill();
    }
  });

  it("an expiry past the policy's maximum is refused, and a policy of 0 minutes forbids invitations", async () => {
    const tooLong = await api<Problem>(cp, 'POST', '/api/agent/invitations', {
      body: { ...AGENT_INFO, expiresInMinutes: 6 * 60 + 1, password: PASSWORD },
      expect: 422,
    });
    assert.match(tooLong.detail, /at most 360 minutes/);
    const weak = await api<Problem>(cp, 'POST', '/api/agent/invitations', {
      body: { ...AGENT_INFO, expiresInMinutes: 5, password: 'short' },
      expect: 400,
    });
    assert.equal(weak.code, 'VALIDATION_FAILED');

    const groups = await api<{
      items: { id: string; isDefault: boolean; policy: Record<string, unknown> }[];
    }>(cp, 'GET', '/api/groups');
    const group = groups.items.find((g) => g.isDefault)!;
    await api(cp, 'PUT', `/api/groups/${group.id}/policy`, {
      body: { ...group.policy, invitationMaxMinutes: 0 },
    });
    const forbidden = await api<Problem>(cp, 'POST', '/api/agent/invitations', {
      body: { ...AGENT_INFO, expiresInMinutes: 5, password: PASSWORD },
      expect: 403,
    });
    assert.equal(forbidden.code, 'POLICY_FORBIDS');
  });

  it('nothing broke the console CSP or threw in the page', () => {
    assert.deepEqual(view.problems, []);
  });
});

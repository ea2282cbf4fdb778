import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { RelayClient } from '../control-plane/relay-client.ts';
import { registerAgent } from '../support/control-plane.ts';
import { permissionsWith } from '../support/permissions.ts';
import { api, type ConsolePage, screenshot, signIn, useRealConsole } from './real-console.ts';

// Operator first, end to end: the real console bundle in headless Chromium against a real control
// plane, with a `ws` client in the part of the user's agent.

interface SessionJson {
  id: string;
  status: string;
  endReason: string | null;
  codeExpiresAt: string | null;
  initiator: string;
  deviceGroupId: string;
}

const AGENT_INFO = {
  name: 'lifeline-agent',
  version: '0.1.0',
  hostname: 'desk-7',
  os: 'Ubuntu 24.04',
  user: 'robin',
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('operator-first sessions in the console', () => {
  let view: ConsolePage;
  let page: Page;

  const ui = useRealConsole();

  beforeEach(async () => {
    view = await ui.open();
    page = view.page;
  });

  const newestSession = async () =>
    (await api<{ items: SessionJson[] }>(ui.cp, 'GET', '/api/sessions?limit=1')).items[0]!;
  const codeText = async () => (await page.textContent('[data-testid=session-code]')) ?? '';
  const expiresAt = async () =>
    (await page.getAttribute('[data-testid=code-countdown]', 'data-expires-at')) ?? '';
  const agentJoin = (code: string, expect?: number) =>
    api<{ sessionId: string; relay: { url: string; token: string } }>(ui.cp, 'POST', '/api/agent/join', {
      body: { ...AGENT_INFO, code },
      ...(expect ? { expect } : {}),
    });

  async function startInvite(): Promise<SessionJson> {
    await page.click('[data-testid=new-session]');
    await page.waitForSelector('[data-testid=session-code]');
    return newestSession();
  }

  it('New session shows the grouped code, a live countdown and the download links of that session', async () => {
    await signIn(page, ui.cp);
    const session = await startInvite();
    const groups = await api<{ items: Array<{ id: string; isDefault: boolean }> }>(
      ui.cp,
      'GET',
      '/api/groups',
    );
    assert.equal(session.initiator, 'operator');
    assert.equal(session.status, 'waiting');
    assert.equal(
      session.deviceGroupId,
      groups.items.find((group) => group.isDefault)?.id,
      'the default group',
    );

    assert.match(await codeText(), /^\d{3} \d{3} \d{3}$/);
    assert.equal(await expiresAt(), session.codeExpiresAt);
    const first = (await page.textContent('[data-testid=code-countdown]')) ?? '';
    assert.match(first, /^1[45]:\d\d$/, 'a 15-minute code');
    await page.waitForFunction(
      (shown) => document.querySelector('[data-testid=code-countdown]')?.textContent !== shown,
      first,
    );

    for (const platform of ['linux-x64', 'win-x64']) {
      assert.equal(
        await page.getAttribute(`[data-testid=download-${platform}]`, 'href'),
        `${ui.cp.url}/download/agent/${platform}?session=${session.id}`,
      );
    }
    await page.click('[data-testid=copy-download-linux-x64]');
    await page.waitForSelector('[data-testid=copy-download-linux-x64][data-state=copied]');
    assert.equal(
      await page.evaluate(() => navigator.clipboard.readText()),
      `${ui.cp.url}/download/agent/linux-x64?session=${session.id}`,
    );
    assert.match(
      (await page.textContent('[data-testid=invite-instructions]')) ?? '',
      new RegExp(await codeText()),
    );

    const keys = view.idempotencyKeys.get('POST /api/sessions') ?? [];
    assert.equal(keys.length, 1);
    assert.match(keys[0]!, UUID);
    await screenshot(page, 'invite-waiting');
  });

  it('Extend moves the expiry, Request new replaces the code, Cancel ends the session', async () => {
    await signIn(page, ui.cp);
    await startInvite();
    const firstExpiry = await expiresAt();
    await page.click('[data-testid=extend-code]');
    await page.waitForFunction(
      (before) =>
        document.querySelector('[data-testid=code-countdown]')?.getAttribute('data-expires-at') !== before,
      firstExpiry,
    );
    const extended = await expiresAt();
    assert.ok(Date.parse(extended) > Date.parse(firstExpiry), `${extended} is after ${firstExpiry}`);
    assert.equal((await newestSession()).codeExpiresAt, extended);

    const oldCode = await codeText();
    await page.click('[data-testid=request-new-code]');
    await page.waitForFunction(
      (before) => document.querySelector('[data-testid=session-code]')?.textContent !== before,
      oldCode,
    );
    const newCode = await codeText();
    assert.match(newCode, /^\d{3} \d{3} \d{3}$/);
    assert.equal((await newestSession()).codeExpiresAt, await expiresAt());
    // The old code no longer opens the session for the user's agent.
    await agentJoin(oldCode, 404);

    await page.click('[data-testid=cancel-session]');
    await page.waitForSelector('[data-testid=invite-notice]');
    const ended = await newestSession();
    assert.equal(ended.status, 'ended');
    assert.equal(ended.endReason, 'operator-ended');
    await agentJoin(newCode, 410);
    assert.equal(await page.isVisible('[data-testid=new-session]'), true, 'ready for the next invitation');
    await screenshot(page, 'invite-cancelled');
  });

  it('an expired code says so and Request new brings a working code, whatever the browser clock says', async () => {
    await view.context.clock.install();
    await signIn(page, ui.cp);
    await startInvite();
    const expired = await codeText();
    // Past the 15 minutes on the operator's clock; the server's clock has not moved.
    await page.clock.fastForward('16:00');
    await page.waitForSelector('[data-testid=code-expired]');
    assert.equal(await page.textContent('[data-testid=code-countdown]'), '0:00');
    assert.match((await page.textContent('[data-testid=invite-status]')) ?? '', /expired/);
    assert.equal(
      await page.locator('[data-testid=extend-code]').count(),
      0,
      'an expired code is not extended',
    );
    await screenshot(page, 'invite-expired');

    await page.click('[data-testid=request-new-code]');
    await page.waitForSelector('[data-testid=code-expired]', { state: 'detached' });
    assert.notEqual(await codeText(), expired);
    // The new expiry is read against the server's clock, so it counts a full lifetime again.
    assert.match((await page.textContent('[data-testid=code-countdown]')) ?? '', /^1[45]:\d\d$/);
  });

  it("the console opens the session once the user's agent joins with the code", async () => {
    await signIn(page, ui.cp);
    const session = await startInvite();
    const joined = await agentJoin((await codeText()).replace(/ /g, ''));
    assert.equal(joined.sessionId, session.id);
    await page.waitForTimeout(500);
    assert.equal(
      await page.getAttribute('body', 'data-view'),
      'dashboard',
      'the console waits for the agent to reach the relay',
    );

    const agent = await RelayClient.connect(joined.relay.url, {
      hello: { role: 'agent', token: joined.relay.token },
    });
    try {
      await agent.next('welcome');
      await page.waitForSelector('body[data-view=session]', { timeout: 15_000 });
      await agent.next('operator-joined');
      await page.waitForFunction(() =>
        document.querySelector('[data-testid=session-status]')?.textContent?.startsWith('Waiting for'),
      );
      agent.send({
        type: 'consent',
        accepted: true,
        permissions: permissionsWith({ view: true, chat: true }),
      });
      await page.waitForFunction(() =>
        document.querySelector('[data-testid=session-status]')?.textContent?.includes('Accepted'),
      );
      assert.equal(await page.getAttribute('[data-testid=permission-view]', 'data-state'), 'on');
      await screenshot(page, 'invite-joined-session');

      await page.click('[data-testid=end-session]');
      assert.deepEqual(await agent.next('end'), { type: 'end', reason: 'operator-ended' });
      await page.click('[data-testid=back]');
      await page.waitForSelector('body[data-view=dashboard]');
      assert.equal(await page.isVisible('[data-testid=new-session]'), true, 'the invitation is closed');
    } finally {
      await agent.close();
    }
  });

  it('an invited user who connects while the operator is in another session is offered, not forced', async () => {
    await signIn(page, ui.cp);
    await startInvite();
    const invitedCode = (await codeText()).replace(/ /g, '');

    // Meanwhile the operator takes a user-first session.
    const walkIn = await registerAgent(ui.cp.app);
    const first = await RelayClient.connect(walkIn.relay.url, {
      hello: { role: 'agent', token: walkIn.relay.token },
    });
    const agents = [first];
    try {
      await first.next('welcome');
      await page.fill('[data-testid=code-input]', walkIn.code);
      await page.click('[data-testid=connect]');
      await page.waitForSelector('body[data-view=session]');
      await first.next('operator-joined');

      const joined = await agentJoin(invitedCode);
      const invited = await RelayClient.connect(joined.relay.url, {
        hello: { role: 'agent', token: joined.relay.token },
      });
      agents.push(invited);
      await invited.next('welcome');
      await page.waitForSelector('[data-testid=invite-arrived]');
      assert.equal(await page.getAttribute('body', 'data-view'), 'session');
      assert.equal(invited.messages('operator-joined').length, 0, 'not joined before the operator says so');
      await screenshot(page, 'invite-arrived-during-session');

      await page.click('[data-testid=open-arrived]');
      await invited.next('operator-joined');
      await page.waitForSelector('[data-testid=invite-arrived]', { state: 'detached' });
    } finally {
      for (const agent of agents) await agent.close();
    }
  });
});

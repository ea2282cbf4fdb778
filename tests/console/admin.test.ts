import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { verifyExport } from '../../control-plane/audit/verify.ts';
import { ADMIN_PASSWORD, ADMIN_USERNAME, loginCookie } from '../support/control-plane.ts';
import { api, createOperator, screenshot, signIn, useRealConsole } from './real-console.ts';

// Administration through the real console bundle in headless Chromium, checked against a real
// control plane's API: what the console did is what the server now holds.

interface GroupJson {
  id: string;
  name: string;
  hasRegistrationKey: boolean;
  policy: {
    modes: Record<string, boolean>;
    unattended: { allowed: boolean; roles: string[]; notifyUser: boolean };
    codeLifetimeMinutes: number;
    invitationMaxMinutes: number;
    confirmIncomingFiles: boolean;
    filesAllRoots: boolean;
  };
}

const PASSWORD = 'a long enough password';

const navOf = (page: Page) =>
  page.$$eval('[data-testid^=nav-]', (items) => items.map((item) => item.getAttribute('data-testid')));

describe('administration in the console', () => {
  /** A signed-in console in a fresh browser context; checked for page errors after the test. */
  async function consoleAs(username = ADMIN_USERNAME, password = ADMIN_PASSWORD): Promise<Page> {
    const view = await ui.open();
    await signIn(view.page, ui.cp, username, password);
    return view.page;
  }

  const ui = useRealConsole(async (cp) => {
    await createOperator(cp, { username: 'mo', role: 'manager', name: 'Mo Manager', password: PASSWORD });
    await createOperator(cp, { username: 'tess', role: 'technician', name: 'Tess Tech', password: PASSWORD });
    await createOperator(cp, {
      username: 'audrey',
      role: 'auditor',
      name: 'Audrey Audit',
      password: PASSWORD,
    });
  });

  it('each role sees the pages its scopes allow, and nothing it may not do', async () => {
    const expected: Record<string, string[]> = {
      [ADMIN_USERNAME]: [
        'nav-sessions',
        'nav-devices',
        'nav-groups',
        'nav-operators',
        'nav-tokens',
        'nav-audit',
        'nav-account',
      ],
      mo: ['nav-sessions', 'nav-devices', 'nav-groups', 'nav-operators', 'nav-audit', 'nav-account'],
      tess: ['nav-sessions', 'nav-devices', 'nav-groups', 'nav-account'],
      audrey: ['nav-sessions', 'nav-devices', 'nav-groups', 'nav-audit', 'nav-account'],
    };
    for (const [username, pages] of Object.entries(expected)) {
      const page = await consoleAs(username, username === ADMIN_USERNAME ? ADMIN_PASSWORD : PASSWORD);
      assert.deepEqual(await navOf(page), pages, username);
      if (username === 'audrey') {
        // Auditors never reach a device: no code field, no invitations, no Rejoin.
        assert.equal(await page.locator('[data-testid=code-input]').count(), 0);
        assert.equal(await page.locator('[data-testid=new-session]').count(), 0);
        await screenshot(page, 'dashboard-auditor');
      }
      if (username === 'tess') {
        // A page the role may not open is the dashboard, even by its address.
        await page.goto(`${ui.cp.url}/#/operators`);
        await page.waitForSelector('body[data-view=dashboard]');
      }
    }
  });

  it('an auditor downloads the audit trail for verification from the audit page, and it verifies; a manager has no such button', async () => {
    const page = await consoleAs('audrey', PASSWORD);
    await page.click('[data-testid=nav-audit]');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=audit-export]'),
    ]);
    const verdict = await verifyExport(readFileSync(await download.path(), 'utf8'), ui.cp.services.keys.jwks);
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
    const manager = await consoleAs('mo', PASSWORD);
    await manager.click('[data-testid=nav-audit]');
    await manager.waitForSelector('[data-testid=audit-filter]');
    assert.equal(await manager.locator('[data-testid=audit-export]').count(), 0);
  });

  it('creates a device group, renames it and changes its policy; the audit log shows before and after', async () => {
    const page = await consoleAs();
    await page.click('[data-testid=nav-groups]');
    await page.fill('[data-testid=new-group-name]', 'Front desk');
    await page.click('[data-testid=create-group]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=group-title]')?.textContent === 'Front desk',
    );
    await page.click('[data-testid=rename-group]');
    await page.fill('[data-testid=group-name-input]', 'Front desk PCs');
    await page.click('[data-testid=save-group-name]');
    await page.waitForSelector('[data-testid=group-row][data-name="Front desk PCs"]');
    const groupId = (await page.getAttribute('[data-testid=group-detail]', 'data-group-id'))!;

    await page.uncheck('[data-testid=policy-mode-shell]');
    await page.check('[data-testid=policy-unattended-allowed]');
    await page.check('[data-testid=policy-unattended-role-technician]');
    await page.fill('[data-testid=policy-code-lifetime]', '5');
    await page.fill('[data-testid=policy-invitation-max]', '90');
    await page.uncheck('[data-testid=policy-confirm-incoming-files]');
    await page.check('[data-testid=policy-files-all-roots]');
    await screenshot(page, 'groups-policy-editing');
    await page.click('[data-testid=save-policy]');
    await page.waitForSelector('[data-testid=policy-saved]');
    const group = await api<GroupJson>(ui.cp, 'GET', `/api/groups/${groupId}`);
    assert.equal(group.name, 'Front desk PCs');
    assert.equal(group.policy.modes['shell'], false);
    assert.equal(group.policy.modes['control'], true);
    assert.deepEqual(group.policy.unattended, {
      allowed: true,
      roles: ['admin', 'technician'],
      notifyUser: true,
    });
    assert.equal(group.policy.codeLifetimeMinutes, 5);
    assert.equal(group.policy.invitationMaxMinutes, 90);
    assert.equal(group.policy.confirmIncomingFiles, false);
    assert.equal(group.policy.filesAllRoots, true, 'the switch the agent reads is saved');

    await page.click('[data-testid=nav-audit]');
    await page.fill('[data-testid=audit-action-filter]', 'policy.update');
    await page.click('[data-testid=audit-apply]');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid=audit-row]')].every(
        (row) => row.getAttribute('data-action') === 'policy.update',
      ),
    );
    const diff = (await page.textContent('[data-testid=audit-row] [data-testid=audit-diff]')) ?? '';
    for (const expected of [
      'modes.shelltrue→false',
      'unattended.allowedfalse→true',
      'codeLifetimeMinutes15→5',
    ]) {
      assert.ok(diff.replace(/\s/g, '').includes(expected), `${expected} in ${diff}`);
    }
    await screenshot(page, 'audit-policy-change');

    // Sessions created in the group from now on carry its policy: a 5-minute code.
    await page.click('[data-testid=nav-sessions]');
    await page.selectOption('[data-testid=new-session-group]', groupId);
    await page.click('[data-testid=new-session]');
    await page.waitForSelector('[data-testid=session-code]');
    assert.match((await page.textContent('[data-testid=code-countdown]')) ?? '', /^[45]:\d\d$/);
    await page.click('[data-testid=cancel-session]');
    await page.waitForSelector('[data-testid=invite-notice]');
  });

  it('issues a registration key once, with Copy, and agents enrol into the group with it', async () => {
    const page = await consoleAs();
    const created = await api<GroupJson>(ui.cp, 'POST', '/api/groups', { body: { name: 'Kiosks' } });
    await page.click('[data-testid=nav-groups]');
    await page.click('[data-testid=group-row][data-name=Kiosks]');
    await page.click('[data-testid=issue-registration-key]');
    const key = (await page.textContent('[data-testid=registration-key]')) ?? '';
    assert.match(key, /^llr_/);
    await page.click('[data-testid=registration-key-copy]');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
    assert.equal((await api<GroupJson>(ui.cp, 'GET', `/api/groups/${created.id}`)).hasRegistrationKey, true);
    await screenshot(page, 'groups-registration-key');

    const registered = await api<{ sessionId: string }>(ui.cp, 'POST', '/api/agent/register', {
      body: { name: 'lifeline-agent', version: '0.1.0', hostname: 'kiosk-1', registrationKey: key },
    });
    const session = await api<{ deviceGroupId: string }>(
      ui.cp,
      'GET',
      `/api/sessions/${registered.sessionId}`,
    );
    assert.equal(session.deviceGroupId, created.id);
  });

  it('creates an operator, changes the role, resets the password, disables and enables them', async () => {
    const page = await consoleAs();
    await page.click('[data-testid=nav-operators]');
    await page.fill('[data-testid=new-operator-username]', 'casey');
    await page.fill('[data-testid=new-operator-name]', 'Casey Helpdesk');
    await page.fill('[data-testid=new-operator-password]', 'first password 123');
    await page.selectOption('[data-testid=new-operator-role]', 'technician');
    await page.click('[data-testid=create-operator]');
    const row = page.locator('[data-testid=operator-row][data-username=casey]');
    await row.waitFor();
    await loginCookie(ui.cp.app, 'casey', 'first password 123');
    const casey = async () =>
      (
        await api<{ items: Array<{ username: string; role: string; disabled: boolean }> }>(
          ui.cp,
          'GET',
          '/api/operators',
        )
      ).items.find((operator) => operator.username === 'casey')!;
    assert.equal((await casey()).role, 'technician');

    await row.locator('[data-testid=operator-role]').selectOption('manager');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=operators-notice]')?.textContent?.includes('now manager'),
    );
    assert.equal((await casey()).role, 'manager');

    await row.locator('[data-testid=operator-reset-password]').click();
    await page.fill('[data-testid=operator-new-password]', 'second password 456');
    await page.click('[data-testid=operator-save-password]');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=operators-notice]')?.textContent?.includes('password was changed'),
    );
    await loginCookie(ui.cp.app, 'casey', 'second password 456');
    await assert.rejects(loginCookie(ui.cp.app, 'casey', 'first password 123'), /401/);

    // Disabling asks for a second click.
    await row.locator('[data-testid=operator-toggle-disabled]').click();
    await row.locator('[data-testid=operator-toggle-disabled][data-armed=true]').click();
    await page.waitForFunction(
      () =>
        document.querySelector(
          '[data-testid=operator-row][data-username=casey] [data-testid=operator-status]',
        )?.textContent === 'Disabled',
    );
    assert.equal((await casey()).disabled, true);
    await assert.rejects(loginCookie(ui.cp.app, 'casey', 'second password 456'), /401/);
    await screenshot(page, 'operators');

    await row.locator('[data-testid=operator-toggle-disabled]').click();
    await page.waitForFunction(
      () =>
        document.querySelector(
          '[data-testid=operator-row][data-username=casey] [data-testid=operator-status]',
        )?.textContent === 'Active',
    );
    assert.equal((await casey()).disabled, false);
  });

  it('managers read operators without controls; technicians read policies without changing them', async () => {
    const manager = await consoleAs('mo', PASSWORD);
    await manager.click('[data-testid=nav-operators]');
    await manager.waitForSelector('[data-testid=operator-row][data-username=tess]');
    assert.equal(await manager.locator('[data-testid=operator-role]').count(), 0);
    assert.equal(await manager.locator('[data-testid=create-operator-form]').count(), 0);
    assert.equal(await manager.locator('[data-testid=operator-toggle-disabled]').count(), 0);
    await screenshot(manager, 'operators-manager');

    const technician = await consoleAs('tess', PASSWORD);
    await technician.click('[data-testid=nav-groups]');
    await technician.waitForSelector('[data-testid=policy-form]');
    assert.equal(await technician.isDisabled('[data-testid=policy-mode-view]'), true);
    assert.equal(await technician.locator('[data-testid=save-policy]').count(), 0);
    assert.equal(await technician.locator('[data-testid=create-group]').count(), 0);
    assert.equal(await technician.locator('[data-testid=rename-group]').count(), 0);
    await screenshot(technician, 'groups-technician');
  });

  it('creates an API token that is shown once and works, and revokes it', async () => {
    const page = await consoleAs();
    await page.click('[data-testid=nav-tokens]');
    await page.fill('[data-testid=new-token-name]', 'inventory');
    await page.check('[data-testid="token-scope-audit:read"]');
    await page.selectOption('[data-testid=new-token-expiry]', '30');
    await page.click('[data-testid=create-token]');
    const token = (await page.textContent('[data-testid=new-token]')) ?? '';
    assert.match(token, /^llt_/);
    await page.waitForSelector('[data-testid=token-row][data-name=inventory]');
    await screenshot(page, 'tokens-created');

    const me = await api<{ via: string; scopes: string[] }>(ui.cp, 'GET', '/api/auth/me', { bearer: token });
    assert.equal(me.via, 'api-token');
    assert.deepEqual([...me.scopes].sort(), ['audit:read', 'sessions:read', 'sessions:write']);
    const listed = await api<{ items: Array<{ name: string; expiresAt: string }> }>(
      ui.cp,
      'GET',
      '/api/tokens',
    );
    const days =
      (Date.parse(listed.items.find((item) => item.name === 'inventory')!.expiresAt) - Date.now()) /
      86_400_000;
    assert.ok(days > 29 && days <= 30, `expires in ${days} days`);

    await page.reload();
    await page.waitForSelector('[data-testid=token-row][data-name=inventory]');
    assert.equal(await page.locator('[data-testid=new-token]').count(), 0, 'the token is shown once');

    await page.click('[data-testid=token-row][data-name=inventory] [data-testid=revoke-token]');
    await page.click(
      '[data-testid=token-row][data-name=inventory] [data-testid=revoke-token][data-armed=true]',
    );
    await page.waitForSelector('[data-testid=token-row][data-name=inventory]', { state: 'detached' });
    await api(ui.cp, 'GET', '/api/auth/me', { bearer: token, expect: 401 });
  });
});

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { WebSocket } from 'ws';
import { signDeviceToken } from '../../agent/device/device-key.ts';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { signIn, useRealConsole } from '../console/real-console.ts';
import { apiClient, expectJson } from '../support/api.ts';
import { loginCookie } from '../support/control-plane.ts';
import { deviceHello, devicesApi, enrolDevice } from './device-support.ts';

/** Background access for administrators, without elevation. */
const POLICY: Policy = {
  ...DEFAULT_POLICY,
  elevatedTools: false,
  backgroundAccess: { allowed: true, roles: ['admin'], notifyUser: false },
};

// The Devices page in real headless Chromium; two devices online on the real hub, one reporting a
// user at its console and one nobody.
describe('the Devices page says whose shell background access will be', () => {
  const links: WebSocket[] = [];
  let groupId = '';
  const ui = useRealConsole(async (cp) => {
    const admin = { cookie: await loginCookie(cp.app) };
    const devices = devicesApi(cp, admin);
    const group = await devices.createGroup('Front desks');
    groupId = group.id;
    await expectJson(await apiClient(cp).put(`/api/groups/${group.id}/policy`, admin, POLICY), 200);
    const key = await devices.issueKey(group.id);
    for (const report of [{ hostname: 'desk-anna', consoleUser: 'anna' }, { hostname: 'desk-empty' }]) {
      const device = await enrolDevice(cp, key, report);
      const hello = await deviceHello(cp, await signDeviceToken(device.deviceId, device.privateJwk), {
        os: 'linux test',
        agentVersion: '0.1.0',
        ...report,
      });
      assert.equal(hello.code, 'welcome');
      links.push(hello.socket!);
    }
  });

  after(() => {
    for (const link of links) link.close();
  });

  const button = (page: Awaited<ReturnType<typeof ui.open>>['page'], hostname: string) =>
    page
      .locator('[data-testid=device-row]', { hasText: hostname })
      .locator('[data-testid=device-background-access]');

  it('"as <user>" for the console user, disabled while nobody is logged in; "as root (elevated)" with elevation', async () => {
    const { page } = await ui.open();
    await signIn(page, ui.cp);
    await page.click('[data-testid=nav-devices]');
    const anna = button(page, 'desk-anna');
    await anna.waitFor();
    assert.match((await anna.textContent()) ?? '', /Background access as anna/);
    assert.equal(await anna.isEnabled(), true);
    const empty = button(page, 'desk-empty');
    assert.match((await empty.textContent()) ?? '', /nobody logged in/);
    assert.equal(await empty.isDisabled(), true, 'the device would refuse: nothing to press');

    const admin = { cookie: await loginCookie(ui.cp.app) };
    const elevated = { ...POLICY, elevatedTools: true };
    await expectJson(await apiClient(ui.cp).put(`/api/groups/${groupId}/policy`, admin, elevated), 200);
    await page.reload();
    await page.click('[data-testid=nav-devices]');
    for (const hostname of ['desk-anna', 'desk-empty']) {
      const shown = button(page, hostname);
      await shown.waitFor();
      assert.match((await shown.textContent()) ?? '', /Background access as root \(elevated\)/);
      assert.equal(await shown.isEnabled(), true);
    }
  });
});

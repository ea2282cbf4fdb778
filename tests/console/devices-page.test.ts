import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { signDeviceToken } from '../../agent/device/device-key.ts';
import { deviceHello, devicesApi, enrolDevice, TEST_REPORT } from '../devices/device-support.ts';
import type { Credentials } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type ConsolePage, launchConsoleBrowser, openConsole, signIn } from './real-console.ts';

describe('the console Devices page', () => {
  let cp: TestControlPlane;
  let admin: Credentials;
  let browser: Browser;
  let view: ConsolePage;
  let closeLive: () => void = () => {};

  /** The host names in the table, in order. */
  const rows = () =>
    view.page
      .locator('[data-testid=device-row] [data-testid=device-reported]')
      .evaluateAll((cells) =>
        cells.filter((cell) => cell.closest('td')?.cellIndex === 0).map((cell) => cell.textContent),
      );

  before(async () => {
    cp = await startControlPlane({ listen: true });
    admin = { cookie: await loginCookie(cp.app) };
    const devices = devicesApi(cp, admin);
    const tills = await devices.createGroup('Tills');
    const servers = await devices.createGroup('Servers');
    const keys = { tills: await devices.issueKey(tills.id), servers: await devices.issueKey(servers.id) };
    const enrolled = new Map<string, { deviceId: string; privateJwk: object }>();
    const names: [string, keyof typeof keys][] = [
      ['till-01', 'tills'],
      ['till-02', 'tills'],
      ['db-01', 'servers'],
      ['evil\u202Etxt.exe', 'servers'],
    ];
    for (const [hostname, group] of names)
      enrolled.set(hostname, await enrolDevice(cp, keys[group], { hostname }));
    const db = enrolled.get('db-01')!;
    const hello = await deviceHello(cp, await signDeviceToken(db.deviceId, db.privateJwk), {
      ...TEST_REPORT,
      hostname: 'db-01',
    });
    assert.equal(hello.code, 'welcome');
    closeLive = () => hello.socket?.close();
    browser = await launchConsoleBrowser();
    view = await openConsole(browser, cp);
    await signIn(view.page, cp);
    await view.page.click('[data-testid=nav-devices]');
    await view.page.waitForSelector('[data-testid=device-row]');
  });

  after(async () => {
    closeLive();
    await browser?.close();
    await cp?.stop();
  });

  it('lists every device with what it reports, inert and marked as reported by the device', async () => {
    assert.deepEqual(await rows(), ['till-01', 'till-02', 'db-01', 'evil\ufffdtxt.exe']);
    assert.match((await view.page.textContent('main')) ?? '', /reported by the device/);
    assert.deepEqual(view.problems, []);
  });

  it('searches by name', async () => {
    await view.page.fill('[data-testid=devices-search]', 'TILL');
    await view.page.click('[data-testid=devices-apply]');
    await view.page.waitForFunction(() => document.querySelectorAll('[data-testid=device-row]').length === 2);
    assert.deepEqual(await rows(), ['till-01', 'till-02']);
  });

  it('filters by group and by status', async () => {
    await view.page.fill('[data-testid=devices-search]', '');
    await view.page.selectOption('[data-testid=devices-group]', { label: 'Servers' });
    await view.page.click('[data-testid=devices-apply]');
    await view.page.waitForFunction(() => document.querySelectorAll('[data-testid=device-row]').length === 2);
    assert.deepEqual(await rows(), ['db-01', 'evil\ufffdtxt.exe']);
    await view.page.selectOption('[data-testid=devices-status]', 'online');
    await view.page.click('[data-testid=devices-apply]');
    await view.page.waitForFunction(() => document.querySelectorAll('[data-testid=device-row]').length === 1);
    assert.deepEqual(await rows(), ['db-01']);
    assert.equal(await view.page.textContent('[data-testid=device-status]'), 'online');
  });

  it('pages with Load more when there are more devices than a page', async () => {
    const devices = devicesApi(cp, admin);
    const group = await devices.createGroup('Fleet');
    const key = await devices.issueKey(group.id);
    for (let i = 0; i < 51; i++) await enrolDevice(cp, key, { hostname: `fleet-${i}` });
    await view.page.reload();
    await view.page.waitForSelector('[data-testid=device-row]');
    await view.page.selectOption('[data-testid=devices-group]', { label: 'Fleet' });
    await view.page.click('[data-testid=devices-apply]');
    await view.page.waitForFunction(
      () => document.querySelectorAll('[data-testid=device-row]').length === 50,
    );
    await view.page.click('[data-testid=devices-more]');
    await view.page.waitForFunction(
      () => document.querySelectorAll('[data-testid=device-row]').length === 51,
    );
    assert.equal(await view.page.locator('[data-testid=devices-more]').count(), 0);
  });

  it('forgetting a device takes two clicks and removes it from the list', async () => {
    await view.page.fill('[data-testid=devices-search]', 'till-02');
    await view.page.selectOption('[data-testid=devices-group]', '');
    await view.page.click('[data-testid=devices-apply]');
    await view.page.waitForFunction(() => document.querySelectorAll('[data-testid=device-row]').length === 1);
    await view.page.click('[data-testid=device-forget]');
    await view.page.click('[data-testid=device-forget]');
    await view.page.waitForSelector('[data-testid=devices-empty]');
    const [event] = await devicesApi(cp, admin).audit('device.forget');
    assert.ok(event, 'forgetting is audited');
  });
});

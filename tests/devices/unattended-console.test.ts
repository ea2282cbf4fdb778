import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UNATTENDED_LINGER_ENV } from '../../agent/device/unattended-access.ts';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { signIn, useRealConsole } from '../console/real-console.ts';
import { apiClient, assertProblem, type Credentials } from '../support/api.ts';
import { loginCookie } from '../support/control-plane.ts';
import { waitFor } from '../support/processes.ts';
import { pointerLocation, runX, startXvfb, type Xvfb } from '../support/xvfb.ts';
import { runningDevice } from './device-support.ts';

const UNATTENDED_POLICY: Policy = {
  ...DEFAULT_POLICY,
  unattended: { allowed: true, roles: ['admin'], notifyUser: false },
};
/** How long access outlives its last session here, in milliseconds. */
const LINGER_MS = 10_000;

// The Devices page in real headless Chromium, a real resident agent and a real X display.
describe('unattended access from the Devices page', { timeout: 300_000 }, () => {
  let xvfb: Xvfb;
  let device: Awaited<ReturnType<typeof runningDevice>>;
  let deviceId: string;
  let admin: Credentials;

  before(async () => {
    xvfb = await startXvfb({ width: 800, height: 600 });
    await runX('xsetroot', ['-solid', '#2060c0'], xvfb.display);
  });

  const ui = useRealConsole(async (cp) => {
    admin = { cookie: await loginCookie(cp.app) };
    device = await runningDevice(cp, admin, {
      group: 'Unattended',
      policy: UNATTENDED_POLICY,
      env: { DISPLAY: xvfb.display, [UNATTENDED_LINGER_ENV]: String(LINGER_MS) },
    });
    deviceId = device.deviceId;
  });

  after(async () => {
    await device?.remove();
    await xvfb?.stop();
  });

  it('Start unattended access shows the password once; connecting with it shows the screen and a click moves the real pointer', async () => {
    const { page } = await ui.open();
    await signIn(page, ui.cp);
    await page.click('[data-testid=nav-devices]');
    const row = page.locator(`[data-testid=device-row][data-device-id="${deviceId}"]`);
    await row.locator('[data-testid=device-unattended-start]').click();
    const password = (await row.locator('[data-testid=device-unattended-password]').textContent()) ?? '';
    assert.ok(password.length >= 12, `a password of ${password.length} characters`);

    await row.locator('[data-testid=device-unattended-password-input]').fill('not-the-password');
    await row.locator('[data-testid=device-unattended-connect]').click();
    await row.locator('[data-testid=device-access-error]').waitFor();
    assert.match(
      (await row.locator('[data-testid=device-access-error]').textContent()) ?? '',
      /not the password/,
    );

    await row.locator('[data-testid=device-unattended-password-input]').fill(password);
    await row.locator('[data-testid=device-unattended-connect]').click();
    await page.waitForSelector('body[data-view=session]', { timeout: 30_000 });
    await page.waitForFunction(
      () =>
        ((window as unknown as { lifelineStats?: { framesDecoded: number } }).lifelineStats?.framesDecoded ??
          0) > 0,
      undefined,
      { timeout: 30_000 },
    );
    await page.click('[data-testid=take-control]');
    const box = (await page.locator('canvas[data-testid=screen]').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.5);
    const pointer = await waitFor('the real pointer to move', async () => {
      const p = await pointerLocation(xvfb.display);
      return Math.abs(p.x - 600) <= 4 && Math.abs(p.y - 300) <= 4 ? p : undefined;
    });
    assert.ok(Math.abs(pointer.y - 300) <= 4, JSON.stringify(pointer));

    await page.click('[data-testid=end-session]');
    await page.waitForSelector('[data-testid=ended]', { timeout: 10_000 });
    const folder = join(device.layout.workDir, 'unattended');
    await waitFor('the grant to expire', () => readdirSync(folder).length === 0, LINGER_MS + 20_000);
    await assertProblem(
      await apiClient(ui.cp).post(`/api/devices/${deviceId}/unattended/sessions`, admin, { password }),
      410,
      'UNATTENDED_INACTIVE',
    );
  });
});

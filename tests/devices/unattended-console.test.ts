import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UNATTENDED_LINGER_ENV } from '../../agent/device/unattended-access.ts';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { assertProblem } from '../support/api.ts';
import { waitFor } from '../support/processes.ts';
import { pointerLocation } from '../support/xvfb.ts';
import { openDeviceRow, useRunningDeviceConsole } from './device-support.ts';

const UNATTENDED_POLICY: Policy = {
  ...DEFAULT_POLICY,
  unattended: { allowed: true, roles: ['admin'], notifyUser: false },
  // Nobody is logged in at the test display (`who` names nobody): the host runs as the service's user
  // (root), which takes the policy's elevation.
  elevatedTools: true,
};
/** How long access outlives its last session here, in milliseconds. */
const LINGER_MS = 10_000;

// The Devices page in real headless Chromium, a real resident agent and a real X display.
describe('unattended access from the Devices page', { timeout: 300_000 }, () => {
  const ui = useRunningDeviceConsole({
    group: 'Unattended',
    policy: UNATTENDED_POLICY,
    env: { [UNATTENDED_LINGER_ENV]: String(LINGER_MS) },
    display: true,
  });

  it('Start unattended access shows the password once; connecting with it shows the screen and a click moves the real pointer', async () => {
    const { page, row } = await openDeviceRow(ui);
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
      const p = await pointerLocation(ui.xvfb.display);
      return Math.abs(p.x - 600) <= 4 && Math.abs(p.y - 300) <= 4 ? p : undefined;
    });
    assert.ok(Math.abs(pointer.y - 300) <= 4, JSON.stringify(pointer));

    await page.click('[data-testid=end-session]');
    await page.waitForSelector('[data-testid=ended]', { timeout: 10_000 });
    const folder = join(ui.device.layout.workDir, 'unattended');
    await waitFor('the grant to expire', () => readdirSync(folder).length === 0, LINGER_MS + 20_000);
    await assertProblem(
      await ui.api.post(`/api/devices/${ui.device.deviceId}/unattended/sessions`, ui.admin, { password }),
      410,
      'UNATTENDED_INACTIVE',
    );
  });
});

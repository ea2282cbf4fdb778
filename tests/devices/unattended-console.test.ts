import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installLayout } from '../../agent/device/layout.ts';
import { UNATTENDED_LINGER_ENV } from '../../agent/device/unattended-access.ts';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { signIn, useRealConsole } from '../console/real-console.ts';
import { apiClient, assertProblem, type Credentials, expectJson } from '../support/api.ts';
import { loginCookie } from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { pointerLocation, runX, startXvfb, type Xvfb } from '../support/xvfb.ts';
import { agentCommand, devicesApi, startAsSystemd } from './device-support.ts';

const UNATTENDED_POLICY: Policy = {
  ...DEFAULT_POLICY,
  unattended: { allowed: true, roles: ['admin'], notifyUser: false },
};
/** How long access outlives its last session here, in milliseconds. */
const LINGER_MS = 10_000;

// The Devices page in real headless Chromium, a real resident agent and a real X display.
describe('unattended access from the Devices page', { timeout: 300_000 }, () => {
  let xvfb: Xvfb;
  let root: string;
  let service: Spawned;
  let deviceId: string;
  let admin: Credentials;

  before(async () => {
    xvfb = await startXvfb({ width: 800, height: 600 });
    await runX('xsetroot', ['-solid', '#2060c0'], xvfb.display);
  });

  const ui = useRealConsole(async (cp) => {
    admin = { cookie: await loginCookie(cp.app) };
    const devices = devicesApi(cp, admin);
    const group = await devices.createGroup('Unattended');
    await expectJson(
      await apiClient(cp).put(`/api/groups/${group.id}/policy`, admin, UNATTENDED_POLICY),
      200,
    );
    const key = await devices.issueKey(group.id);
    root = mkdtempSync(join(tmpdir(), 'lifeline-root-'));
    const installed = await agentCommand(['install', '--key', key, '--server', cp.url, '--root', root]);
    assert.equal(installed.code, 0, installed.output);
    deviceId = JSON.parse(readFileSync(installLayout(root).credentials, 'utf8')).deviceId;
    service = startAsSystemd(installLayout(root).unitFile, {
      DISPLAY: xvfb.display,
      [UNATTENDED_LINGER_ENV]: String(LINGER_MS),
    });
    await waitFor('the device online', async () => (await devices.get(deviceId)).status === 'online');
  });

  after(async () => {
    await service?.kill();
    await xvfb?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
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
    const folder = join(installLayout(root).workDir, 'unattended');
    await waitFor('the grant to expire', () => readdirSync(folder).length === 0, LINGER_MS + 20_000);
    await assertProblem(
      await apiClient(ui.cp).post(`/api/devices/${deviceId}/unattended/sessions`, admin, { password }),
      410,
      'UNATTENDED_INACTIVE',
    );
  });
});

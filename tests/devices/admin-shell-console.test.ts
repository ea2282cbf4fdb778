import { userInfo } from 'node:os';
import { after, describe, it } from 'node:test';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { signIn, useRealConsole } from '../console/real-console.ts';
import type { Credentials } from '../support/api.ts';
import { loginCookie } from '../support/control-plane.ts';
import { runningDevice } from './device-support.ts';

const ELEVATED_POLICY: Policy = { ...DEFAULT_POLICY, elevatedTools: true };

// The Devices page in real headless Chromium and a real resident agent.
describe('the administrator shell from the Devices page', { timeout: 300_000 }, () => {
  let device: Awaited<ReturnType<typeof runningDevice>>;
  let admin: Credentials;

  const ui = useRealConsole(async (cp) => {
    admin = { cookie: await loginCookie(cp.app) };
    device = await runningDevice(cp, admin, { group: 'Elevated shells', policy: ELEVATED_POLICY, env: {} });
  });

  after(async () => {
    await device?.remove();
  });

  it("Elevated tools → Administrator shell opens the session page with a real shell as the service's user", async () => {
    const { page } = await ui.open();
    await signIn(page, ui.cp);
    await page.click('[data-testid=nav-devices]');
    const row = page.locator(`[data-testid=device-row][data-device-id="${device.deviceId}"]`);
    await row.locator('[data-testid=device-admin-shell]').click();
    await page.waitForSelector('[data-access=background] [data-testid=background-access]', {
      timeout: 30_000,
    });
    await page.waitForSelector('[data-testid=terminal-pane][data-status=open]', { timeout: 30_000 });
    await page.click('[data-testid=terminal-screen]');
    await page.keyboard.type('echo "admin=$(whoami)"\n');
    await page.waitForFunction(
      (text) =>
        [...document.querySelectorAll('[data-testid=terminal-screen] .xterm-rows > div')].some(
          (line) => line.textContent?.trim() === text,
        ),
      `admin=${userInfo().username}`,
      { timeout: 20_000 },
    );
  });
});

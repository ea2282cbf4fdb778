import { userInfo } from 'node:os';
import { describe, it } from 'node:test';
import { signIn } from '../console/real-console.ts';
import { ELEVATED_POLICY, useRunningDeviceConsole } from './device-support.ts';

// The Devices page in real headless Chromium and a real resident agent.
describe('the administrator shell from the Devices page', { timeout: 300_000 }, () => {
  const ui = useRunningDeviceConsole({ group: 'Elevated shells', policy: ELEVATED_POLICY });

  it("Elevated tools → Administrator shell opens the session page with a real shell as the service's user", async () => {
    const { page } = await ui.open();
    await signIn(page, ui.cp);
    await page.click('[data-testid=nav-devices]');
    const row = page.locator(`[data-testid=device-row][data-device-id="${ui.device.deviceId}"]`);
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

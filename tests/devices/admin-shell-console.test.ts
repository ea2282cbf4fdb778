import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { after, describe, it } from 'node:test';
import { type Spawned, spawnCollecting } from '../support/processes.ts';
import {
  ELEVATED_POLICY,
  endSleepInConsole,
  openDeviceRow,
  useRunningDeviceConsole,
} from './device-support.ts';

// The Devices page in real headless Chromium and a real resident agent.
describe('the administrator shell from the Devices page', { timeout: 300_000 }, () => {
  const ui = useRunningDeviceConsole({ group: 'Elevated shells', policy: ELEVATED_POLICY });
  let sleeper: Spawned | undefined;

  after(async () => {
    await sleeper?.kill();
  });

  it("Elevated tools → Administrator shell opens the session page with a real shell as the service's user", async () => {
    const { page, row } = await openDeviceRow(ui);
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

  it('inside the session, the Elevated tools menu opens the task manager, whose End task kills a real process; no registry on Linux', async () => {
    sleeper = spawnCollecting('sleep', ['1000'], { PATH: process.env['PATH'] });
    const pid = sleeper.child.pid!;
    const { page, row } = await openDeviceRow(ui);
    await row.locator('[data-testid=device-processes-open]').waitFor();
    assert.equal(await row.locator('[data-testid=device-registry-open]').count(), 0, 'no registry on Linux');
    await row.locator('[data-testid=device-admin-shell]').click();
    await page.waitForSelector('[data-access=background] [data-testid=background-access]', {
      timeout: 30_000,
    });
    await page.click('[data-testid=session-elevated-menu]');
    assert.equal(await page.locator('[data-testid=session-elevated-registry]').count(), 0);
    await endSleepInConsole(page, pid);
    // The session is still there underneath: its terminal was not replaced.
    assert.equal(await page.locator('[data-testid=terminal-pane]').count(), 1);
  });
});

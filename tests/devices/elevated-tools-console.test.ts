import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isAlive, type Spawned, spawnCollecting, waitFor } from '../support/processes.ts';
import { ELEVATED_POLICY, openDeviceRow, useRunningDeviceConsole } from './device-support.ts';

// The Devices page in real headless Chromium and a real resident agent.
describe('elevated tools from the Devices page', { timeout: 300_000 }, () => {
  let sleeper: Spawned | undefined;
  const ui = useRunningDeviceConsole({ group: 'Elevated', policy: ELEVATED_POLICY });

  after(async () => {
    await sleeper?.kill();
  });

  it('Elevated tools → Processes lists a real sleep, the filter finds it, and End task (confirmed) kills it', async () => {
    sleeper = spawnCollecting('sleep', ['1000'], { PATH: process.env['PATH'] });
    const pid = sleeper.child.pid!;
    const { page, row } = await openDeviceRow(ui);
    await row.locator('[data-testid=device-processes-open]').click();
    await page.locator('[data-testid=processes]').waitFor();
    await page.fill('[data-testid=processes-filter]', 'sleep');
    await page.click('[data-testid=processes-apply]');
    // The filtered list replaces the whole one: only names with "sleep", ours among them.
    await waitFor('only sleeps listed', async () => {
      const names = await page.locator('[data-testid=process-row] td:nth-child(2)').allTextContents();
      return names.length > 0 && names.every((name) => name.includes('sleep'));
    });
    const process_ = page.locator(`[data-testid=process-row][data-pid="${pid}"]`);
    await process_.waitFor();
    const end = process_.locator('[data-testid=process-end]');
    await end.click();
    assert.ok(isAlive(pid), 'the first click only asks for confirmation');
    await end.click();
    await page.locator('[data-testid=processes-message]').waitFor();
    assert.match((await page.locator('[data-testid=processes-message]').textContent()) ?? '', /Ended sleep/);
    await waitFor('the sleep to be gone', () => !isAlive(pid));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ELEVATED_POLICY, openDeviceRow, useRunningDeviceConsole } from './device-support.ts';
import { useFakeSystemctl } from './fake-systemctl.ts';

// The Devices page in real headless Chromium and a real resident agent (with a stand-in systemctl).
describe('elevated tools → services from the Devices page', { timeout: 300_000 }, () => {
  const systemctl = useFakeSystemctl();
  const ui = useRunningDeviceConsole({
    group: 'Elevated services',
    policy: ELEVATED_POLICY,
    env: systemctl.env,
  });

  it('Elevated tools → Services lists the units and Stop (confirmed) stops one', async () => {
    const { page, row } = await openDeviceRow(ui);
    await row.locator('[data-testid=device-services-open]').click();
    const demo = page.locator('[data-testid=service-row][data-unit="demo.service"]');
    await demo.waitFor();
    assert.match((await demo.textContent()) ?? '', /active \(running\).*Demo daemon for tests/);
    const stop = demo.locator('[data-testid=service-stop]');
    await stop.click();
    assert.doesNotMatch(systemctl.log(), /^stop$/m, 'the first click only asks for confirmation');
    await stop.click();
    await page.locator('[data-testid=services-message]').waitFor();
    assert.match(
      (await page.locator('[data-testid=services-message]').textContent()) ?? '',
      /Stopped demo\.service/,
    );
    assert.match(systemctl.log(), /^stop\n--no-ask-password\n--\ndemo\.service$/m);
  });
});

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { expectJson } from '../support/api.ts';
import { waitFor } from '../support/processes.ts';
import { openDeviceRow, useRunningDeviceConsole } from './device-support.ts';
import { noticeTmux } from './notice-tmux.ts';

/**
 * Nobody is logged in at the test display (`who` names nobody): the host runs as the service's user
 * (root), which takes the policy's elevation.
 */
const DESK_POLICY: Policy = { ...DEFAULT_POLICY, elevatedTools: true };

/** The user's desktop: the offer's terminal opens in it. */
const desk = noticeTmux('offer-console');

// The Devices page in real headless Chromium, a real resident agent, the user answering in tmux.
describe('offering help from the Devices page', { timeout: 300_000 }, () => {
  const ui = useRunningDeviceConsole({
    group: 'Desks',
    policy: DESK_POLICY,
    env: desk.env,
    display: true,
  });

  afterEach(async () => {
    await desk.clear();
  });

  it('the user refuses the offer: the console says the user declined, not an error, and nothing was shown', async () => {
    const { page, row } = await openDeviceRow(ui);
    await row.locator('[data-testid=device-offer-reason]').fill('your printer queue is stuck');
    await row.locator('[data-testid=device-offer-help]').click();

    // The operator waits on the session page while the user reads the offer.
    await page.waitForSelector('body[data-view=session]', { timeout: 30_000 });
    const status = page.locator('[data-testid=session-status]');
    await page.waitForFunction(
      () =>
        /Waiting for .* to accept/.test(
          document.querySelector('[data-testid=session-status]')?.textContent ?? '',
        ),
      undefined,
      { timeout: 30_000 },
    );
    await waitFor(
      'the offer on the device',
      async () =>
        /offers to help you with: your printer queue is stuck/.test(await desk.screen()) || undefined,
    );

    await desk.press('n');
    const ended = page.locator('[data-testid=ended]');
    await ended.waitFor({ timeout: 20_000 });
    const text = (await ended.textContent()) ?? '';
    assert.match(text, /The user declined/);
    assert.match(text, /Nothing was shared/);
    assert.doesNotMatch(text, /error|Could not connect/i);
    assert.equal(await page.locator('[data-testid=connection-lost]').count(), 0);
    assert.equal((await status.textContent())?.trim(), 'The user declined');
    const framesDecoded = await page.evaluate(
      () =>
        (window as unknown as { lifelineStats?: { framesDecoded: number } }).lifelineStats?.framesDecoded ??
        0,
    );
    assert.equal(framesDecoded, 0, 'no picture reached the console');

    const [session] = (
      await expectJson<{ items: { id: string; endReason: string | null }[] }>(
        await ui.api.get('/api/sessions?status=ended', ui.admin),
        200,
      )
    ).items;
    assert.equal(session?.endReason, 'consent-refused');
  });
});

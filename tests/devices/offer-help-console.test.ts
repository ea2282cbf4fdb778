import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { DEFAULT_POLICY } from '../../protocol/index.ts';
import { signIn, useRealConsole } from '../console/real-console.ts';
import { apiClient, type Credentials, expectJson } from '../support/api.ts';
import { loginCookie } from '../support/control-plane.ts';
import { waitFor } from '../support/processes.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';
import { runningDevice } from './device-support.ts';
import { noticeTmux } from './notice-tmux.ts';

/** The user's desktop: the offer's terminal opens in it. */
const desk = noticeTmux('offer-console');

// The Devices page in real headless Chromium, a real resident agent, the user answering in tmux.
describe('offering help from the Devices page', { timeout: 300_000 }, () => {
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
      group: 'Desks',
      policy: DEFAULT_POLICY,
      env: { DISPLAY: xvfb.display, ...desk.env },
    });
    deviceId = device.deviceId;
  });

  afterEach(async () => {
    await desk.clear();
  });

  after(async () => {
    await device?.remove();
    await xvfb?.stop();
  });

  it('the user refuses the offer: the console says the user declined, not an error, and nothing was shown', async () => {
    const { page } = await ui.open();
    await signIn(page, ui.cp);
    await page.click('[data-testid=nav-devices]');
    const row = page.locator(`[data-testid=device-row][data-device-id="${deviceId}"]`);
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
        await apiClient(ui.cp).get('/api/sessions?status=ended', admin),
        200,
      )
    ).items;
    assert.equal(session?.endReason, 'consent-refused');
  });
});

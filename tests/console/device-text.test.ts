import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_PERMISSIONS, type Permissions } from '../../protocol/index.ts';
import { RelayClient } from '../control-plane/relay-client.ts';
import { HOSTILE_DEVICE } from '../support/hostile-device.ts';
import { screenshot, signIn, useRealConsole } from './real-console.ts';

const VIEW_ONLY: Permissions = { ...NO_PERMISSIONS, view: true };

/** Anything a hostile device name could use to move, recolour or reorder what the operator reads. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * The real console in headless Chromium against a real control plane: a device whose host name,
 * user and OS carry terminal escapes and bidi overrides is shown with those characters gone and
 * with a visible "reported by the device" label.
 */
describe('the console shows what a device says about itself inert and marked', () => {
  const ui = useRealConsole();

  it('the dashboard and the session bar show the device name marked as reported by the device, without its control characters', async () => {
    const registered = await ui.cp.app.request('/api/agent/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(HOSTILE_DEVICE),
    });
    assert.equal(registered.status, 201);
    const registration = (await registered.json()) as { code: string; relay: { url: string; token: string } };
    const agent = await RelayClient.connect(registration.relay.url, {
      hello: { role: 'agent', token: registration.relay.token, client: HOSTILE_DEVICE },
    });
    try {
      await agent.next('welcome');

      const { page } = await ui.open();
      await signIn(page, ui.cp);
      await page.click('[data-testid=sessions-filter-waiting]');
      const row = page.locator('[data-testid=session-row]').first();
      await row.locator('[data-testid=device-reported-mark]').waitFor();
      assert.equal(
        await row.locator('[data-testid=device-reported-mark]').textContent(),
        'reported by the device',
      );
      const rowName = (await row.locator('[data-testid=device-reported]').first().textContent()) ?? '';
      assert.match(rowName, /^bob\ufffd\[2J\ufffd\ufffd@desk-42\ufffdgnp\.exe$/);
      const rowText = (await row.textContent()) ?? '';
      assert.doesNotMatch(rowText, UNSAFE, 'the row carries no control or bidi character');
      assert.ok(rowText.includes('Linux\ufffd'), 'the OS is shown, inert');
      // Its own style: not the text around it.
      const family = await row
        .locator('[data-testid=device-reported]')
        .first()
        .evaluate((element) => getComputedStyle(element).fontFamily);
      assert.match(family, /mono/i);
      await screenshot(page, 'device-text-dashboard');

      await page.fill('[data-testid=code-input]', registration.code);
      await page.click('[data-testid=connect]');
      await agent.next('operator-joined', 0, 30_000);
      agent.send({ type: 'consent', accepted: true, permissions: VIEW_ONLY });
      await page.waitForSelector('.session-bar__who [data-testid=device-reported-mark]');
      const bar = page.locator('.session-bar__who');
      assert.equal(
        await bar.locator('[data-testid=device-reported-mark]').textContent(),
        'reported by the device',
      );
      const barText = (await bar.textContent()) ?? '';
      assert.ok(barText.includes('desk-42\ufffdgnp.exe'));
      assert.doesNotMatch(barText, UNSAFE, 'the session bar carries no control or bidi character');
      const status = (await page.textContent('[data-testid=session-status]')) ?? '';
      assert.doesNotMatch(status, UNSAFE, 'the status line carries no control or bidi character');
      await screenshot(page, 'device-text-session');
    } finally {
      await agent.close();
    }
  });
});

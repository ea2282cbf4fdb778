import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOTP } from 'otpauth';
import { currentTotp } from '../../control-plane/auth/totp.ts';
import { api, createOperator, screenshot, signIn, useRealConsole } from './real-console.ts';

const PASSWORD = 'a long enough password';

/** A 6-digit code the secret does not produce around now (the server accepts one step either side). */
function wrongCode(secret: string): string {
  const totp = new TOTP({ secret, digits: 6, period: 30 });
  const near = new Set(
    [-30_000, 0, 30_000].map((offset) => totp.generate({ timestamp: Date.now() + offset })),
  );
  for (let candidate = 0; ; candidate++) {
    const code = String(candidate).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

describe('the second factor in the console', () => {
  const ui = useRealConsole(async (cp) => {
    await createOperator(cp, {
      username: 'sam',
      role: 'technician',
      name: 'Sam Support',
      password: PASSWORD,
    });
  });

  it('turned on in Account, it makes sign-in ask for the code; a wrong code is refused, the right one signs in', async () => {
    const { page } = await ui.open();
    await signIn(page, ui.cp, 'sam', PASSWORD);
    await page.click('[data-testid=nav-account]');
    await page.waitForSelector('body[data-view=account]');
    assert.equal(await page.textContent('[data-testid=totp-status]'), 'Off');
    await page.click('[data-testid=totp-setup]');
    const secret = ((await page.textContent('[data-testid=totp-secret]')) ?? '').replace(/\s/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/, 'a base32 secret');
    const uri = (await page.textContent('[data-testid=totp-uri]')) ?? '';
    assert.ok(uri.startsWith('otpauth://totp/') && uri.includes(`secret=${secret}`), uri);
    await screenshot(page, 'account-totp-setup');

    await page.fill('[data-testid=totp-setup-code]', wrongCode(secret));
    await page.click('[data-testid=totp-enable]');
    assert.match((await page.textContent('[data-testid=error]')) ?? '', /does not match/);
    await page.fill('[data-testid=totp-setup-code]', currentTotp(secret));
    await page.click('[data-testid=totp-enable]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=totp-status]')?.textContent === 'On',
    );
    const operators = await api<{ items: Array<{ username: string; totpEnabled: boolean }> }>(
      ui.cp,
      'GET',
      '/api/operators',
    );
    assert.equal(operators.items.find((operator) => operator.username === 'sam')?.totpEnabled, true);
    await screenshot(page, 'account-totp-on');

    await page.click('[data-testid=sign-out]');
    await page.waitForSelector('body[data-view=login]');
    await page.fill('input[name=username]', 'sam');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=totp-input]');
    assert.equal(await page.locator('[data-testid=error]').count(), 0, 'asking for the code is not an error');
    assert.equal(
      await page.inputValue('[data-testid=totp-input]'),
      '',
      'the password never shows in the code field',
    );
    assert.equal(await page.locator('input[name=password]').count(), 0);
    await screenshot(page, 'login-totp');

    await page.fill('[data-testid=totp-input]', wrongCode(secret));
    await page.click('button[type=submit]');
    assert.equal(await page.textContent('[data-testid=error]'), 'Wrong or already used authenticator code.');
    // The current step's code was spent turning the factor on, and a code is good once: use the next one.
    await page.fill('[data-testid=totp-input]', currentTotp(secret, Date.now() + 30_000));
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-view=dashboard]');
    assert.equal(await page.textContent('[data-testid=operator-name]'), 'Sam Support');
  });
});

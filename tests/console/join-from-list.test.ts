import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SessionCode } from '../../protocol/api/index.ts';
import { spawnAgent } from '../support/agent-process.ts';
import { apiClient, expectJson } from '../support/api.ts';
import { loginCookie } from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';
import { screenshot, signIn, useRealConsole } from './real-console.ts';

// An operator-first session created over the API (no console tab waiting for it): once the real
// agent connects with its code, the session list says the device is here and Join opens it.

describe('joining from the session list a session whose device has arrived', () => {
  let xvfb: Xvfb;
  let agent: Spawned | undefined;
  const ui = useRealConsole();

  before(async () => {
    xvfb = await startXvfb({ width: 800, height: 600 });
    await runX('xsetroot', ['-solid', '#2060a0'], xvfb.display);
  });

  after(async () => {
    await agent?.kill();
    await xvfb?.stop();
  });

  it('the list tells a device waiting for an operator from an invitation, and Join shows its screen', async () => {
    const api = apiClient(ui.cp);
    const cookie = await loginCookie(ui.cp.app);
    const created = await expectJson<SessionCode>(await api.post('/api/sessions', { cookie }, {}), 201);
    const pending = await expectJson<SessionCode>(await api.post('/api/sessions', { cookie }, {}), 201);

    const { page } = await ui.open();
    await signIn(page, ui.cp);
    await page.click('[data-testid=sessions-filter-waiting]');
    const row = (id: string) => `[data-testid=session-row][data-id="${id}"]`;
    await page.waitForSelector(row(pending.session.id));
    assert.match((await page.textContent(row(pending.session.id))) ?? '', /waiting for the user's device/);

    agent = spawnAgent({ server: ui.cp.url, display: xvfb.display, code: created.code, args: ['--keep'] });
    await waitFor(
      'the agent to say its help desk is being called',
      () => /Calling your help desk at /.test(agent!.output()),
      30_000,
    );

    // The list refreshes by itself: the arrived device is waiting for an operator, the other is not.
    await page.waitForSelector(`${row(created.session.id)} [data-testid=join]`, { timeout: 30_000 });
    assert.match(
      (await page.textContent(row(created.session.id))) ?? '',
      /the device is here, waiting for you/,
    );
    assert.equal(await page.$(`${row(pending.session.id)} [data-testid=join]`), null);
    await screenshot(page, 'session-list-device-here');

    await page.click(`${row(created.session.id)} [data-testid=join]`);
    await page.waitForSelector('body[data-view=session]', { timeout: 30_000 });
    const colour = await waitFor(
      'the X root colour on the canvas',
      () =>
        page.evaluate(() => {
          const canvas = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]');
          if (!canvas) return undefined;
          const [r, g, b] = canvas.getContext('2d')!.getImageData(20, 20, 1, 1).data;
          const near = Math.abs(r! - 0x20) < 40 && Math.abs(g! - 0x60) < 40 && Math.abs(b! - 0xa0) < 40;
          return near ? [r, g, b] : undefined;
        }),
      30_000,
    );
    assert.ok(colour, agent.output());
    assert.match((await page.textContent('[data-testid=session-status]')) ?? '', /^Connected to /);

    await page.click('[data-testid=end-session]');
    await page.waitForSelector('[data-testid=ended]');
    assert.equal(await agent.exited, 0, agent.output());
  });
});

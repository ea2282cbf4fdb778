import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { spawnAgent } from '../support/agent-process.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';
import { type ConsolePage, launchConsoleBrowser, openConsole, screenshot, signIn } from './real-console.ts';

// Operator first with everything real: the console creates the session, the real agent (on a real X
// display, with real ffmpeg) joins with the code the operator gave, and the console shows its screen.

describe('operator first with the real agent', () => {
  let xvfb: Xvfb;
  let cp: TestControlPlane;
  let browser: Browser;
  let view: ConsolePage;
  let agent: Spawned | undefined;

  before(async () => {
    xvfb = await startXvfb({ width: 800, height: 600 });
    await runX('xsetroot', ['-solid', '#20a060'], xvfb.display);
    cp = await startControlPlane({ listen: true });
    browser = await launchConsoleBrowser();
    view = await openConsole(browser, cp);
  });

  after(async () => {
    await agent?.kill();
    await view?.context.close();
    await browser?.close();
    await cp?.stop();
    await xvfb?.stop();
  });

  it('the agent started with the code opens the session in the console, which shows its screen', async () => {
    const { page } = view;
    await signIn(page, cp);
    await page.click('[data-testid=new-session]');
    const code = ((await page.textContent('[data-testid=session-code]')) ?? '').replace(/ /g, '');

    agent = spawnAgent({ server: cp.url, display: xvfb.display, code, args: ['--keep'] });
    await page.waitForSelector('body[data-view=session]', { timeout: 30_000 });
    await page.waitForFunction(
      () =>
        (window as unknown as { lifelineStats?: { framesDecoded: number } }).lifelineStats!.framesDecoded > 0,
      undefined,
      { timeout: 30_000 },
    );
    const colour = await waitFor('the X root colour on the canvas', () =>
      page.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')!;
        const [r, g, b] = canvas.getContext('2d')!.getImageData(20, 20, 1, 1).data;
        const near = Math.abs(r! - 0x20) < 40 && Math.abs(g! - 0xa0) < 40 && Math.abs(b! - 0x60) < 40;
        return near ? [r, g, b] : undefined;
      }),
    );
    assert.ok(colour, agent.output());
    assert.match((await page.textContent('[data-testid=session-status]')) ?? '', /^Connected to /);
    await screenshot(page, 'invite-real-agent-session');

    await page.click('[data-testid=end-session]');
    await page.waitForSelector('[data-testid=ended]');
    assert.equal(await agent.exited, 0, agent.output());
    assert.deepEqual(view.problems, []);
  });
});

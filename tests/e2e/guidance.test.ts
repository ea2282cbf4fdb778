import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { connectWithCode } from '../console/real-console.ts';
import { shownCode, spawnAgent } from '../support/agent-process.ts';
import { launchChromium } from '../support/browser.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { isMarkRed, screenPixel } from '../support/screen-capture.ts';
import { pointerLocation, startXvfb, type Xvfb } from '../support/xvfb.ts';

describe('guidance: the operator draws on the user screen without controlling it', () => {
  let xvfb: Xvfb;
  let cp: TestControlPlane;
  let browser: Browser;
  let page: Page;
  let agent: Spawned;

  before(async () => {
    xvfb = await startXvfb({ width: 800, height: 600 });
    cp = await startControlPlane({ listen: true });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  });

  after(async () => {
    await agent?.kill();
    await browser?.close();
    await cp?.stop();
    await xvfb?.stop();
  });

  it('an arrow drawn in the console appears on the real screen, clicks never move the real pointer, and clear removes it', async () => {
    agent = spawnAgent({ server: cp.url, display: xvfb.display });
    await connectWithCode(page, cp, await shownCode(agent));
    await page.waitForSelector('[data-testid=guidance-toolbar]', { timeout: 30_000 });
    await page.waitForFunction(
      () =>
        (window as unknown as { lifelineStats?: { framesDecoded: number } }).lifelineStats!.framesDecoded > 0,
      undefined,
      { timeout: 20_000 },
    );
    // In control first: choosing a guidance tool must give control up, so the drag is not input.
    await page.click('[data-testid=take-control]');
    await page.click('[data-testid=guidance-arrow]');
    const before = await pointerLocation(xvfb.display);
    const box = (await page.locator('canvas[data-testid=screen]').boundingBox())!;
    // From a quarter to three quarters across, at 40% height: the shaft passes (400, 240).
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.4);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.4, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.4, { steps: 5 });
    await page.mouse.up();
    await waitFor('the arrow on the real screen', () => isMarkRed(screenPixel(xvfb.display, 400, 240)));
    assert.deepEqual(await pointerLocation(xvfb.display), before, 'the real pointer did not move');
    assert.equal(isMarkRed(screenPixel(xvfb.display, 400, 500)), false, 'only the arrow is painted');

    await page.click('[data-testid=guidance-clear]');
    await waitFor('the arrow gone', () => !isMarkRed(screenPixel(xvfb.display, 400, 240)));
    assert.deepEqual(await pointerLocation(xvfb.display), before);
  });
});

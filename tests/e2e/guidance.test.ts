import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { cssColour, guidanceColour } from '../../protocol/index.ts';
import { connectWithCode, openConsole, signIn } from '../console/real-console.ts';
import { shownCode, spawnAgent } from '../support/agent-process.ts';
import { apiClient, createOperator, OPERATOR_PASSWORD } from '../support/api.ts';
import { launchChromium } from '../support/browser.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
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

  it('each operator draws in their own colour, shown beside their name; their own marks show on their view without the video, and Clear takes them away', async () => {
    const cookie = await loginCookie(cp.app);
    const me = (await (await cp.app.request('/api/auth/me', { headers: { cookie } })).json()) as {
      operator: { organisationId: string };
    };
    await createOperator(
      apiClient(cp),
      { cookie },
      { username: 'tech-b', role: 'technician', organisationId: me.operator.organisationId },
    );
    const sessions = (await (
      await cp.app.request('/api/sessions?status=active', { headers: { cookie } })
    ).json()) as { items: { id: string }[] };
    // A second operator joins the same session; the agent lets them in (--accept).
    const second = (await openConsole(browser, cp)).page;
    await second.setViewportSize({ width: 1400, height: 1000 });
    await signIn(second, cp, 'tech-b', OPERATOR_PASSWORD);
    await second.click(`[data-testid=session-row][data-id="${sessions.items[0]!.id}"] [data-testid=join]`, {
      timeout: 30_000,
    });
    await second.waitForSelector('[data-testid=guidance-toolbar]', { timeout: 30_000 });

    // Each has their own colour, the same in every console: the first operator red, the second blue.
    const red = cssColour(guidanceColour(0));
    const blue = cssColour(guidanceColour(1));
    assert.notEqual(red, blue);
    assert.equal(
      await second.getAttribute('[data-testid=guidance-mine] [data-testid=guidance-swatch]', 'data-colour'),
      blue,
    );
    assert.equal(
      await page.getAttribute('[data-testid=guidance-mine] [data-testid=guidance-swatch]', 'data-colour'),
      red,
    );
    await page.waitForSelector('[data-testid=operators-bar]', { timeout: 30_000 });
    const named = await page.$$eval('[data-testid=participant]', (items) =>
      items.map((item) => [
        item.textContent?.includes('tech-b') ? 'tech-b' : 'Administrator',
        item.querySelector('[data-testid=guidance-swatch]')?.getAttribute('data-colour'),
      ]),
    );
    assert.deepEqual(named.sort(), [
      ['Administrator', red],
      ['tech-b', blue],
    ]);

    // The second operator's arrow: on their own view at once (a canvas apart from the video) and on
    // the user's screen in their colour.
    await second.click('[data-testid=guidance-arrow]');
    const box = (await second.locator('canvas[data-testid=screen]').boundingBox())!;
    await second.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.7);
    await second.mouse.down();
    await second.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.7, { steps: 5 });
    await second.mouse.up();
    await second.waitForSelector('[data-testid=guidance-echo][data-marks="1"]');
    const echoed = await second.$eval(
      '[data-testid=guidance-echo]',
      (canvas, at) => {
        const c = canvas as HTMLCanvasElement;
        const ratio = c.width / c.clientWidth;
        const [r, g, b] = c.getContext('2d')!.getImageData(at.x * ratio, at.y * ratio, 1, 1).data;
        return `#${[r, g, b].map((v) => (v ?? 0).toString(16).padStart(2, '0')).join('')}`;
      },
      { x: box.width * 0.5, y: box.height * 0.7 },
    );
    assert.equal(echoed, blue, 'the arrow on their own view, in their colour');
    const isBlue = ([r, g, b]: [number, number, number]) =>
      Math.abs(r - 0x20) < 24 && Math.abs(g - 0x80) < 24 && Math.abs(b - 0xff) < 24;
    await waitFor('the blue arrow on the real screen', () => isBlue(screenPixel(xvfb.display, 400, 420)));
    assert.equal(isMarkRed(screenPixel(xvfb.display, 400, 420)), false);

    // Clear takes it off their view and the user's screen.
    await second.click('[data-testid=guidance-clear]');
    await second.waitForSelector('[data-testid=guidance-echo][data-marks="0"]', { state: 'attached' });
    await waitFor('the arrow gone', () => !isBlue(screenPixel(xvfb.display, 400, 420)));
  });
});

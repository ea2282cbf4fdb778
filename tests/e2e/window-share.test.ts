import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { connectWithCode, launchConsoleBrowser, openConsole } from '../console/real-console.ts';
import { shownCode, spawnAgent } from '../support/agent-process.ts';
import { canvasSize, colourCounts } from '../support/canvas-colours.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, spawnCollecting, waitFor } from '../support/processes.ts';
import { geometryOf, searchWindows } from '../support/x-windows.ts';
import { pointerLocation, runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

const SCREEN = { width: 1280, height: 480 };
/** The window the user shares: red, and the other one: blue, on a green desktop. */
const SHARED = { title: 'Shared window', background: '#c00000', geometry: '40x10+40+40' };
const OTHER = { title: 'Other window', background: '#0000c0', geometry: '40x10+700+200' };

function startXterm(display: string, window: typeof SHARED): Spawned {
  return spawnCollecting(
    'xterm',
    ['-T', window.title, '-bg', window.background, '-fg', window.background, '-geometry', window.geometry],
    { ...process.env, DISPLAY: display },
  );
}

/** Clicks the canvas at a point given as fractions of its size. */
async function clickCanvas(page: Page, fx: number, fy: number): Promise<void> {
  const box = (await page.locator('canvas[data-testid=screen]').boundingBox())!;
  await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
}

async function pointerNear(display: string, x: number, y: number): Promise<void> {
  await waitFor(`the X pointer near ${x},${y}`, async () => {
    const at = await pointerLocation(display);
    return Math.abs(at.x - x) <= 4 && Math.abs(at.y - y) <= 4 ? true : undefined;
  });
}

const even = (n: number) => n - (n % 2);

// The real agent on an Xvfb with two xterm windows at known places, the real control plane and
// relay, and the real console in headless Chromium. The end user chooses in the agent's terminal.
describe('the end user shares one application window instead of the whole screen', () => {
  let xvfb: Xvfb;
  let cp: TestControlPlane;
  let browser: Browser;
  let page: Page;
  let agent: Spawned;
  const xterms: Spawned[] = [];
  let sharedId = '';
  let otherId = '';

  /** Presses keys in the agent's terminal UI. */
  const type = (keys: string) => agent.child.stdin!.write(keys);

  /** Opens the agent's window list and picks the window titled `title`. */
  async function chooseWindow(title: string): Promise<void> {
    const before = agent.output().length;
    type('w');
    const number = await waitFor(
      'the agent to list the windows',
      () => new RegExp(`\\[(\\d)\\] ${title}`).exec(agent.output().slice(before))?.[1],
    );
    type(number);
  }

  before(async () => {
    xvfb = await startXvfb(SCREEN);
    await runX('xsetroot', ['-solid', '#00c000'], xvfb.display);
    xterms.push(startXterm(xvfb.display, SHARED), startXterm(xvfb.display, OTHER));
    sharedId = await waitFor(
      'the shared xterm',
      async () => (await searchWindows(xvfb.display, SHARED.title))[0],
    );
    otherId = await waitFor(
      'the other xterm',
      async () => (await searchWindows(xvfb.display, OTHER.title))[0],
    );
    cp = await startControlPlane({ listen: true });
    browser = await launchConsoleBrowser();
    ({ page } = await openConsole(browser, cp));
    await page.setViewportSize({ width: 1400, height: 900 });
    page.setDefaultTimeout(20_000);
  });

  after(async () => {
    await agent?.kill();
    for (const xterm of xterms) await xterm.kill();
    await browser?.close();
    await cp?.stop();
    await xvfb?.stop();
  });

  it('the operator sees only the chosen window, at its size, and nothing of the other one', async () => {
    agent = spawnAgent({ server: cp.url, display: xvfb.display, keepInput: true });
    await connectWithCode(page, cp, await shownCode(agent));
    await page.waitForFunction(() => (window.lifelineStats?.framesDecoded ?? 0) > 0);
    assert.deepEqual(await canvasSize(page), [SCREEN.width, SCREEN.height]);

    await chooseWindow(SHARED.title);
    const rect = await geometryOf(xvfb.display, sharedId);
    await waitFor('the canvas to take the window’s size', async () => {
      const [width, height] = await canvasSize(page);
      return width === even(rect.width) && height === even(rect.height) ? true : undefined;
    });
    assert.match((await page.textContent('[data-testid=shared-window]')) ?? '', /Shared window/);
    const { counts, total } = await waitFor('the window’s picture', async () => {
      const seen = await colourCounts(page, { red: [192, 0, 0], blue: [0, 0, 192], green: [0, 192, 0] });
      return seen.counts['red']! > seen.total / 2 ? seen : undefined;
    });
    assert.equal(counts['blue'], 0, 'no pixel of the other window is sent');
    assert.equal(counts['green'], 0, `no pixel of the desktop is sent (of ${total})`);
  });

  it('a click in the console lands inside the shared window', async () => {
    await page.click('[data-testid=take-control]');
    const rect = await geometryOf(xvfb.display, sharedId);
    await clickCanvas(page, 0.25, 0.5);
    await pointerNear(
      xvfb.display,
      rect.x + Math.floor(rect.width * 0.25),
      rect.y + Math.floor(rect.height / 2),
    );
  });

  it('the capture follows the window when it moves, and blanks another window laid over it', async () => {
    await runX('xdotool', ['windowmove', sharedId, '300', '100'], xvfb.display);
    // The other window now covers the shared one's lower right part.
    await runX('xdotool', ['windowmove', otherId, '400', '160'], xvfb.display);
    const rect = await waitFor('the window to move', async () => {
      const now = await geometryOf(xvfb.display, sharedId);
      return now.x >= 300 ? now : undefined;
    });
    await waitFor('the picture to blank the covered part', async () => {
      const seen = await colourCounts(page, { black: [0, 0, 0] });
      return seen.counts['black']! > seen.total / 10 ? true : undefined;
    });
    const { counts } = await colourCounts(page, { blue: [0, 0, 192], green: [0, 192, 0] });
    assert.equal(counts['blue'], 0, 'the window lying over the shared one is never sent');
    assert.equal(counts['green'], 0);
    assert.deepEqual(await canvasSize(page), [even(rect.width), even(rect.height)]);
    await clickCanvas(page, 0.1, 0.2);
    await pointerNear(
      xvfb.display,
      rect.x + Math.floor(rect.width * 0.1),
      rect.y + Math.floor(rect.height * 0.2),
    );
  });

  it('while the window is unmapped the console shows no picture and says it is hidden', async () => {
    await runX('xdotool', ['windowunmap', '--sync', sharedId], xvfb.display);
    await page.waitForSelector('[data-testid=shared-window][data-hidden=true]');
    assert.match((await page.textContent('[data-testid=shared-window]')) ?? '', /hidden: nothing is shown/);
    assert.equal(
      await page.isVisible('canvas[data-testid=screen]'),
      false,
      'the last picture is not left on show',
    );
    await runX('xdotool', ['windowmap', '--sync', sharedId], xvfb.display);
    await page.waitForSelector('[data-testid=shared-window][data-hidden=false]');
    await page.waitForSelector('canvas[data-testid=screen]', { state: 'visible' });
    await waitFor('the window’s picture again', async () => {
      const seen = await colourCounts(page, { red: [192, 0, 0] });
      return seen.counts['red']! > seen.total / 4 ? true : undefined;
    });
  });

  it('the user shares the whole screen again', async () => {
    const before = agent.output().length;
    type('w');
    await waitFor('the agent to list the windows', () =>
      agent.output().slice(before).includes('[0] the whole screen') ? true : undefined,
    );
    type('0');
    await waitFor('the canvas to show the whole screen', async () =>
      (await canvasSize(page))[0] === SCREEN.width ? true : undefined,
    );
    await page.waitForSelector('[data-testid=shared-window]', { state: 'detached' });
    await clickCanvas(page, 0.9, 0.1);
    await pointerNear(xvfb.display, Math.floor(SCREEN.width * 0.9), Math.floor(SCREEN.height * 0.1));
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { connectWithCode } from '../console/real-console.ts';
import { shownCode, spawnAgent } from '../support/agent-process.ts';
import { launchChromium } from '../support/browser.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { childrenOf, isAlive, type Spawned, spawnCollecting, waitFor } from '../support/processes.ts';
import { pointerLocation, runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

/** Average colour of a square of the canvas, at a point given as fractions of its size. */
async function canvasColour(page: Page, fx: number, fy: number): Promise<[number, number, number]> {
  return page.evaluate(
    ([x, y]) => {
      const canvas = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]');
      if (!canvas || canvas.width === 0) throw new Error('no canvas');
      const context = canvas.getContext('2d');
      if (!context) throw new Error('no 2d context');
      const px = Math.floor(canvas.width * (x as number));
      const py = Math.floor(canvas.height * (y as number));
      const { data } = context.getImageData(px, py, 8, 8);
      const sum = [0, 0, 0];
      for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c]! += data[i + c]!;
      const n = data.length / 4;
      return [sum[0]! / n, sum[1]! / n, sum[2]! / n] as [number, number, number];
    },
    [fx, fy],
  );
}

function near(actual: readonly number[], expected: readonly number[], tolerance = 40): boolean {
  return actual.every((value, i) => Math.abs(value - expected[i]!) <= tolerance);
}

// Samples stay away from the centre, where the agent draws the X pointer into the picture.
describe('a connection code brings the operator onto a live, controllable screen', () => {
  let xvfb: Xvfb;
  let cp: TestControlPlane;
  let browser: Browser;
  let page: Page;
  let agent: Spawned;
  let xterm: Spawned | undefined;
  let ffmpegPid: number | undefined;
  const scratch = mkdtempSync(join(tmpdir(), 'lifeline-e2e-'));

  before(async () => {
    xvfb = await startXvfb({ width: 1280, height: 720 });
    await runX('xsetroot', ['-solid', '#2060c0'], xvfb.display);
    cp = await startControlPlane({ listen: true });
    browser = await launchChromium();
    // A context of its own, so a second console can open beside the first with the same login.
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    // The worker path, so this run proves the control plane serves the worker (a quiet page would
    // decode itself; tests/console/console-ui.test.ts covers the choice).
    await page.addInitScript(() => {
      window.lifelineVideoPathPinned = 'worker';
    });
  });

  after(async () => {
    await agent?.kill();
    await xterm?.kill();
    await browser?.close();
    await cp?.stop();
    await xvfb?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('the operator logs in and redeems the code the agent shows; the agent accepts', async () => {
    agent = spawnAgent({ server: cp.url, display: xvfb.display });
    const code = await shownCode(agent);

    await connectWithCode(page, cp, code);
    await page.waitForFunction(
      () =>
        (window as unknown as { lifelineStats?: { framesDecoded: number } }).lifelineStats!.framesDecoded > 0,
      undefined,
      {
        timeout: 20_000,
      },
    );
    ffmpegPid = childrenOf(agent.child.pid!).find((child) => child.command.startsWith('ffmpeg'))?.pid;
    assert.ok(ffmpegPid, `the agent runs ffmpeg (children: ${JSON.stringify(childrenOf(agent.child.pid!))})`);
  });

  it('the canvas shows what is on the X display', async () => {
    const size = await page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')!;
      return [canvas.width, canvas.height];
    });
    assert.deepEqual(size, [1280, 720]);
    const colour = await waitFor('the root colour on the canvas', async () => {
      const c = await canvasColour(page, 0.3, 0.3);
      return near(c, [0x20, 0x60, 0xc0]) ? c : undefined;
    });
    assert.ok(near(colour, [0x20, 0x60, 0xc0]), `canvas shows ${colour}`);
    // The control plane serves the video worker under its CSP: pinned there, pictures are decoded off the page.
    assert.equal(await page.evaluate(() => window.lifelineVideoPath), 'worker');
  });

  it('a change on the display appears in the canvas', async () => {
    await runX('xsetroot', ['-solid', '#c03020'], xvfb.display);
    const colour = await waitFor('the new root colour on the canvas', async () => {
      const c = await canvasColour(page, 0.3, 0.3);
      return near(c, [0xc0, 0x30, 0x20]) ? c : undefined;
    });
    assert.ok(near(colour, [0xc0, 0x30, 0x20]));
  });

  it('while the screen is still the agent sends no video, and the session stays live', async () => {
    const received = () =>
      page.evaluate(
        () =>
          (window as unknown as { lifelineStats: { framesReceived: number } }).lifelineStats.framesReceived,
      );
    const still = await waitFor('the video to fall silent', async () => {
      const before = await received();
      await sleep(700);
      return (await received()) === before ? before : undefined;
    });
    // 3 s at 30 frames per second: 90 grabs of the same picture.
    await sleep(3000);
    assert.equal(await received(), still, 'no video frame while nothing changes');
    assert.equal(cp.services.relay.stats().sessions, 1);
    assert.match((await page.textContent('[data-testid=session-status]')) ?? '', /Connected/);
  });

  it('a second console that joins while the screen is still is sent one new keyframe of the current screen', async () => {
    const second = await page.context().newPage();
    try {
      await second.goto(cp.url);
      await second.click('[data-testid=rejoin]');
      await second.waitForFunction(
        () =>
          (window as unknown as { lifelineStats?: { framesDecoded: number } }).lifelineStats!.framesDecoded >
          0,
        undefined,
        { timeout: 20_000 },
      );
      const colour = await waitFor('the current screen on the second canvas', async () => {
        const c = await canvasColour(second, 0.3, 0.3);
        return near(c, [0xc0, 0x30, 0x20]) ? c : undefined;
      });
      assert.ok(near(colour, [0xc0, 0x30, 0x20]), `second canvas shows ${colour}`);
      // Made at once from the still picture (README "Keyframes on request"): neither a wait for a
      // change nor a replay of the frames since the last keyframe, which began with the blue screen.
      const video = await second.evaluate(() => {
        const stats = (window as unknown as { lifelineStats: { framesReceived: number; keyframes: number } })
          .lifelineStats;
        return { received: stats.framesReceived, keyframes: stats.keyframes };
      });
      assert.deepEqual(video, { received: 1, keyframes: 1 });
    } finally {
      await second.close();
    }
  });

  it('a click on the canvas moves the real X pointer to the corresponding place', async () => {
    await page.click('[data-testid=take-control]');
    const box = (await page.locator('canvas[data-testid=screen]').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.6);
    const location = await waitFor('the pointer to move', async () => {
      const p = await pointerLocation(xvfb.display);
      return Math.abs(p.x - 960) <= 4 && Math.abs(p.y - 432) <= 4 ? p : undefined;
    });
    assert.ok(Math.abs(location.x - 960) <= 4 && Math.abs(location.y - 432) <= 4, JSON.stringify(location));
  });

  it('typed keys reach a real X client', async () => {
    const file = join(scratch, 'typed.txt');
    xterm = spawnCollecting('xterm', ['-geometry', '60x8+0+0', '-e', 'sh', '-c', `cat > ${file}`], {
      ...process.env,
      DISPLAY: xvfb.display,
    });
    await waitFor(
      'xterm to map',
      async () =>
        (await runX('xdotool', ['search', '--onlyvisible', '--class', 'xterm'], xvfb.display)).trim() ||
        undefined,
    );
    const box = (await page.locator('canvas[data-testid=screen]').boundingBox())!;
    // Without a window manager, keyboard focus follows the pointer: point at the xterm first.
    await page.mouse.click(box.x + box.width * 0.05, box.y + box.height * 0.05);
    await page.keyboard.type('hello lifeline');
    await page.keyboard.press('Enter');
    const typed = await waitFor('the keys to reach xterm', () => {
      try {
        return readFileSync(file, 'utf8').includes('hello lifeline') ? readFileSync(file, 'utf8') : undefined;
      } catch {
        return undefined;
      }
    });
    assert.equal(typed.trim(), 'hello lifeline');
  });

  it('ending the session stops ffmpeg and closes both sockets', async () => {
    await page.click('[data-testid=end-session]');
    await page.waitForSelector('[data-testid=ended]', { timeout: 10_000 });
    const exitCode = await agent.exited;
    assert.equal(exitCode, 0, agent.output());
    assert.ok(ffmpegPid && !isAlive(ffmpegPid), 'ffmpeg is no longer running');
    await waitFor('the relay to drop the session', () => cp.services.relay.stats().sessions === 0);
    assert.deepEqual(
      { sessions: cp.services.relay.stats().sessions, operators: cp.services.relay.stats().operators },
      { sessions: 0, operators: 0 },
    );
    const [row] = (
      await (
        await cp.app.request('/api/sessions?limit=1', { headers: { cookie: await cookieOf(page) } })
      ).json()
    ).items;
    assert.equal(row.status, 'ended');
    assert.equal(row.endReason, 'operator-ended');
  });
});

async function cookieOf(page: Page): Promise<string> {
  const cookies = await page.context().cookies();
  return cookies.map((c) => `${c.name}=${c.value}`).join('; ');
}

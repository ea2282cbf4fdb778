import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { DEFAULT_CACHE_DIR } from '../../build/agent/build-executable.ts';
import { buildX264Encoder } from '../../build/agent/x264-encoder.ts';
import { connectWithCode, itEndsCleanly, useAgentConsole } from '../console/real-console.ts';
import { shownCode } from '../support/agent-process.ts';
import { waitFor } from '../support/processes.ts';
import { pointerLocation } from '../support/xvfb.ts';

const SCREEN = { width: 1920, height: 1080 };
const HALF = `${SCREEN.width / 2}x${SCREEN.height / 2}`;
const FULL = `${SCREEN.width}x${SCREEN.height}`;
/** Generous on a loaded machine: entering takes a second of motion, leaving a second of stillness. */
const MODE_TIMEOUT_MS = 60_000;

/** What the console shows: the canvas's size and the size of the picture last decoded onto it. */
function shown(
  page: Page,
): Promise<{ canvas: string; picture: string | undefined; keyframes: number; decoded: number }> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')!;
    return {
      canvas: `${canvas.width}x${canvas.height}`,
      picture: canvas.dataset['pictureSize'],
      keyframes: window.lifelineStats?.keyframes ?? 0,
      decoded: window.lifelineStats?.framesDecoded ?? 0,
    };
  });
}

/** Waits until the console names `size` as the size of the picture it last decoded. */
async function pictureSizeIs(page: Page, size: string): Promise<void> {
  await page.waitForFunction(
    (wanted) =>
      document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')?.dataset['pictureSize'] ===
      wanted,
    size,
    { timeout: MODE_TIMEOUT_MS, polling: 50 },
  );
}

/** Repaints the whole root window in two colours alternately, about 12 times a second, until stopped. */
function motionOn(display: string): { stop(): void } {
  const child: ChildProcess = spawn(
    'sh',
    ['-c', 'while :; do xsetroot -solid "#d08030"; sleep 0.04; xsetroot -solid "#3070d0"; sleep 0.04; done'],
    { env: { ...process.env, DISPLAY: display }, stdio: 'ignore', detached: true },
  );
  let running = true;
  return {
    stop() {
      // The loop and its xsetroot: the whole process group this test started.
      if (running && child.pid) process.kill(-child.pid, 'SIGKILL');
      running = false;
    },
  };
}

// The real agent with lifeline-x264 on a 1920x1080 Xvfb display, the real relay and the console in
// headless Chromium: full motion is sent at half size and a still screen at full size again.
describe('video mode: a 1080p screen in full motion is sent at half size', () => {
  let motion: { stop(): void } | undefined;
  const ui = useAgentConsole({ ...SCREEN, actionTimeoutMs: 30_000, viewport: { width: 1400, height: 900 } });
  const startMotion = () => {
    motion = motionOn(ui.xvfb.display);
  };
  const stopMotion = () => {
    motion?.stop();
    motion = undefined;
  };
  after(() => stopMotion());

  it('the still screen comes at full size', async () => {
    ui.startAgent({ env: { LIFELINE_X264_PATH: await buildX264Encoder(DEFAULT_CACHE_DIR) } });
    await connectWithCode(ui.page, ui.cp, await shownCode(ui.agent));
    await pictureSizeIs(ui.page, FULL);
    assert.equal((await shown(ui.page)).canvas, FULL);
  });

  it('full motion for a second is decoded at half size, drawn on a canvas of the screen size', async () => {
    startMotion();
    await pictureSizeIs(ui.page, HALF);
    assert.equal((await shown(ui.page)).canvas, FULL, "the canvas keeps the screen's size");
  });

  it('a click while the picture is scaled lands at the right screen coordinates', async () => {
    await ui.page.click('[data-testid=take-control]');
    const box = (await ui.page.locator('canvas[data-testid=screen]').boundingBox())!;
    await ui.page.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.6);
    const location = await waitFor('the pointer to move', async () => {
      const p = await pointerLocation(ui.xvfb.display);
      return Math.abs(p.x - 1440) <= 4 && Math.abs(p.y - 648) <= 4 ? p : undefined;
    });
    assert.ok(Math.abs(location.x - 1440) <= 4 && Math.abs(location.y - 648) <= 4, JSON.stringify(location));
    assert.equal((await shown(ui.page)).picture, HALF, 'still in video mode when the click landed');
  });

  it('once the screen is still, a full-size keyframe follows', async () => {
    stopMotion();
    const before = await shown(ui.page);
    const after = await waitFor(
      'a full-size picture',
      async () => {
        const now = await shown(ui.page);
        return now.picture === FULL ? now : undefined;
      },
      MODE_TIMEOUT_MS,
    );
    assert.ok(after.keyframes > before.keyframes, `a keyframe came: ${JSON.stringify({ before, after })}`);
    assert.equal(after.canvas, FULL);
  });

  itEndsCleanly(ui);
});

// The same screen and motion with the agent started with LIFELINE_VIDEO_MODE=off: every picture stays
// whole. The block above shows this motion does switch to half size when the mode is on.
describe('video mode off (LIFELINE_VIDEO_MODE=off): full motion stays at full size', () => {
  let motion: { stop(): void } | undefined;
  const ui = useAgentConsole({ ...SCREEN, actionTimeoutMs: 30_000, viewport: { width: 1400, height: 900 } });
  after(() => motion?.stop());

  it('over seconds of full motion every decoded picture is 1920x1080', async () => {
    ui.startAgent({
      env: { LIFELINE_X264_PATH: await buildX264Encoder(DEFAULT_CACHE_DIR), LIFELINE_VIDEO_MODE: 'off' },
    });
    await connectWithCode(ui.page, ui.cp, await shownCode(ui.agent));
    await pictureSizeIs(ui.page, FULL);
    // Every size the renderer names from now on, in order.
    await ui.page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')!;
      const sizes: string[] = [];
      (window as unknown as { pictureSizes: string[] }).pictureSizes = sizes;
      new MutationObserver(() => sizes.push(canvas.dataset['pictureSize'] ?? '')).observe(canvas, {
        attributes: true,
        attributeFilter: ['data-picture-size'],
      });
    });
    const start = (await shown(ui.page)).decoded;
    motion = motionOn(ui.xvfb.display);
    // At most 30 pictures a second: 60 pictures of motion span at least 2 s, twice what video mode
    // needs to switch.
    await ui.page.waitForFunction((from) => (window.lifelineStats?.framesDecoded ?? 0) >= from + 60, start, {
      timeout: MODE_TIMEOUT_MS * 2,
      polling: 100,
    });
    motion.stop();
    const sizes = await ui.page.evaluate(
      () => (window as unknown as { pictureSizes: string[] }).pictureSizes,
    );
    assert.deepEqual(sizes, [], `the picture size never changed from ${FULL}: ${sizes.join(', ')}`);
    assert.equal((await shown(ui.page)).picture, FULL);
  });

  itEndsCleanly(ui);
});

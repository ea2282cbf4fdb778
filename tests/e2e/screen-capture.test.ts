import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { connectWithCode, useAgentConsole } from '../console/real-console.ts';
import { shownCode } from '../support/agent-process.ts';
import { waitFor } from '../support/processes.ts';
import { runX } from '../support/xvfb.ts';

const SCREEN = { width: 640, height: 360 };

/** What the console shows of the device's cursor: the drawn image and where, and the CSS cursor. */
interface ShownCursor {
  hidden: boolean;
  image: string;
  left: string;
  top: string;
  css: string;
}

function shownCursor(page: Page): Promise<ShownCursor> {
  return page.evaluate(() => {
    const image = document.querySelector<HTMLCanvasElement>('canvas[data-testid=remote-cursor]')!;
    const screen = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')!;
    return {
      hidden: image.hidden,
      image: image.toDataURL('image/png'),
      left: image.style.left,
      top: image.style.top,
      css: screen.style.cursor,
    };
  });
}

// The real console in headless Chromium, the real control plane and relay, and the real agent on an
// Xvfb display that it reads only when X DAMAGE reports a change.
describe('the console draws the device cursor from its shape and position', () => {
  let xterm: ChildProcess | undefined;

  const ui = useAgentConsole({
    ...SCREEN,
    actionTimeoutMs: 20_000,
    viewport: { width: 1200, height: 800 },
    prepareDisplay: async (xvfb) => {
      await runX('xsetroot', ['-solid', '#204060'], xvfb.display);
      await runX('xdotool', ['mousemove', '500', '300'], xvfb.display);
    },
  });

  after(async () => {
    xterm?.kill('SIGKILL');
  });

  // A still screen sending nothing and a change being seen are tested in session.test.ts (same
  // agent, same capture); the device side of reading only on X DAMAGE in x11-capture.test.ts.
  it('the console shows the screen of an agent that reads it on X DAMAGE', async () => {
    ui.startAgent();
    await connectWithCode(ui.page, ui.cp, await shownCode(ui.agent));
    await ui.page.waitForFunction(() => (window.lifelineStats?.framesDecoded ?? 0) > 0);
    const [r, g, b] = await ui.page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')!;
      return [...canvas.getContext('2d')!.getImageData(4, 4, 1, 1).data];
    });
    assert.ok(
      Math.abs((r ?? 0) - 0x20) < 24 && Math.abs((g ?? 0) - 0x40) < 24 && Math.abs((b ?? 0) - 0x60) < 24,
    );
  });

  it("the console draws the device's cursor where the pointer is, and its I-beam over an xterm", async () => {
    const rootCursor = await waitFor('the cursor drawn over the screen', async () => {
      const shown = await shownCursor(ui.page);
      return shown.hidden ? undefined : shown;
    });
    // The pointer moves on the device alone: the drawn cursor follows, with no video needed.
    await runX('xdotool', ['mousemove', '100', '80'], ui.xvfb.display);
    await waitFor('the drawn cursor to move', async () => {
      const shown = await shownCursor(ui.page);
      return shown.left !== rootCursor.left && shown.top !== rootCursor.top ? true : undefined;
    });

    xterm = spawn('xterm', ['-geometry', '30x6+300+150'], {
      env: { ...process.env, DISPLAY: ui.xvfb.display },
      stdio: 'ignore',
    });
    await runX('xdotool', ['search', '--sync', '--onlyvisible', '--class', 'xterm'], ui.xvfb.display);
    await runX('xdotool', ['mousemove', '360', '180'], ui.xvfb.display);
    const iBeam = await waitFor('the I-beam in the console', async () => {
      const shown = await shownCursor(ui.page);
      return !shown.hidden && shown.image !== rootCursor.image ? shown : undefined;
    });

    // Back over the root window: the root cursor again.
    await runX('xdotool', ['mousemove', '40', '40'], ui.xvfb.display);
    await waitFor('the root cursor in the console again', async () =>
      (await shownCursor(ui.page)).image === rootCursor.image ? true : undefined,
    );
    await runX('xdotool', ['mousemove', '360', '180'], ui.xvfb.display);
    await waitFor('the I-beam in the console again', async () =>
      (await shownCursor(ui.page)).image === iBeam.image ? true : undefined,
    );
  });

  it('for the operator in control the cursor is the CSS cursor of the screen, not a second image', async () => {
    assert.equal((await shownCursor(ui.page)).css, '');
    await ui.page.click('[data-testid=take-control]');
    const shown = await waitFor('the CSS cursor', async () => {
      const now = await shownCursor(ui.page);
      return now.css.startsWith('url(') ? now : undefined;
    });
    assert.equal(shown.hidden, true);
    await ui.page.click('[data-testid=release-control]');
    await waitFor('the drawn cursor back', async () =>
      (await shownCursor(ui.page)).hidden ? undefined : true,
    );
  });

  it('nothing broke the console CSP or threw in the page', () => {
    assert.deepEqual(ui.problems, []);
  });
});

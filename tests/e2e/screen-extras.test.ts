import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { connectWithCode, useAgentConsole } from '../console/real-console.ts';
import { shownCode } from '../support/agent-process.ts';
import { loginCookie } from '../support/control-plane.ts';
import { waitFor } from '../support/processes.ts';
import { pointerLocation, runX } from '../support/xvfb.ts';

/** Two monitors side by side on one 1280×480 X screen, as RandR describes a dual-head desktop. */
const LEFT = { x: 0, width: 640, height: 480 };
const RIGHT = { x: 640, width: 640, height: 480 };

function xclip(display: string, args: string[], input?: string): string {
  try {
    return execFileSync('xclip', ['-selection', 'clipboard', ...args], {
      env: { ...process.env, DISPLAY: display },
      encoding: 'utf8',
      ...(input === undefined ? {} : { input }),
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'ignore'],
      timeout: 5_000,
    });
  } catch {
    return '';
  }
}

async function canvasSize(page: Page): Promise<[number, number]> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')!;
    return [canvas.width, canvas.height] as [number, number];
  });
}

/** Clicks the canvas at a point given as fractions of its size. */
async function clickCanvas(page: Page, fx: number, fy: number): Promise<void> {
  const box = (await page.locator('canvas[data-testid=screen]').boundingBox())!;
  await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
}

/**
 * Chooses a monitor (`monitor-0`, `monitor-1`, `monitor-all`) and waits for the first picture of the
 * stream that follows: the button is pressed as soon as the agent says which monitor is shown, and a
 * click before the new stream began would land where the old one was. `meanwhile` runs right after
 * the button is pressed.
 */
async function chooseMonitor(
  page: Page,
  choice: string,
  meanwhile: () => Promise<void> = async () => {},
): Promise<void> {
  // A still desktop sends one picture a stream: its keyframe.
  const before = await page.evaluate(() => ({
    keyframes: window.lifelineStats?.keyframes ?? 0,
    decoded: window.lifelineStats?.framesDecoded ?? 0,
  }));
  await page.click(`[data-testid=${choice}]`);
  await meanwhile();
  await page.waitForSelector(`[data-testid=${choice}][aria-pressed=true]`);
  await page.waitForFunction(
    ({ keyframes, decoded }) =>
      (window.lifelineStats?.keyframes ?? 0) > keyframes &&
      (window.lifelineStats?.framesDecoded ?? 0) > decoded,
    before,
    { polling: 50 },
  );
}

async function pointerNear(display: string, x: number, y: number): Promise<{ x: number; y: number }> {
  return waitFor(`the X pointer near ${x},${y}`, async () => {
    const at = await pointerLocation(display);
    return Math.abs(at.x - x) <= 4 && Math.abs(at.y - y) <= 4 ? at : undefined;
  });
}

// The real console in headless Chromium, the real control plane and relay, the real agent on an Xvfb
// whose screen RandR splits into two monitors, and the real xclip.
describe('the operator switches monitors, shares the clipboard and sees the session quality', () => {
  const ui = useAgentConsole({
    width: 1280,
    height: 480,
    actionTimeoutMs: 20_000,
    async prepareDisplay(xvfb) {
      await runX(
        'xrandr',
        ['--setmonitor', 'LEFT', `${LEFT.width}/169x${LEFT.height}/127+0+0`, 'screen'],
        xvfb.display,
      );
      await runX(
        'xrandr',
        ['--setmonitor', 'RIGHT', `${RIGHT.width}/169x${RIGHT.height}/127+${RIGHT.x}+0`, 'none'],
        xvfb.display,
      );
    },
  });

  it('the operator sees the whole desktop and a choice of its two monitors', async () => {
    ui.startAgent();
    await connectWithCode(ui.page, ui.cp, await shownCode(ui.agent));
    await ui.page.waitForFunction(() => (window.lifelineStats?.framesDecoded ?? 0) > 0);
    assert.deepEqual(await canvasSize(ui.page), [1280, 480]);
    await ui.page.waitForSelector('[data-testid=monitor-all][aria-pressed=true]');
    assert.match((await ui.page.getAttribute('[data-testid=monitor-1]', 'title')) ?? '', /RIGHT: 640×480/);
  });

  it('choosing monitor 2 shows it alone, and a click on it lands on that monitor', async () => {
    await chooseMonitor(ui.page, 'monitor-1');
    await waitFor('the canvas to take the monitor’s size', async () =>
      (await canvasSize(ui.page))[0] === RIGHT.width ? true : undefined,
    );
    await ui.page.click('[data-testid=take-control]');
    await clickCanvas(ui.page, 0.5, 0.5);
    await pointerNear(ui.xvfb.display, RIGHT.x + RIGHT.width / 2, RIGHT.height / 2);
  });

  it('monitor 1 maps clicks to the left monitor, and All to the whole desktop again', async () => {
    await chooseMonitor(ui.page, 'monitor-0');
    await clickCanvas(ui.page, 0.25, 0.5);
    await pointerNear(ui.xvfb.display, LEFT.width / 4, LEFT.height / 2);
    await chooseMonitor(ui.page, 'monitor-all');
    await waitFor('the canvas to show the whole desktop', async () =>
      (await canvasSize(ui.page))[0] === 1280 ? true : undefined,
    );
    await clickCanvas(ui.page, 0.75, 0.5);
    await pointerNear(ui.xvfb.display, 960, 240);
  });

  it('a click on the old picture while the next monitor’s stream starts is held, not landed on that monitor', async () => {
    const heldBefore = await ui.page.evaluate(() => window.lifelineStats?.pointerEventsHeld ?? 0);
    // Without the hold this click lands at 320,240 (the whole desktop's mapping) or 160,240 (the
    // left monitor's, once the agent switched): either moves the pointer away from 960,240.
    await chooseMonitor(ui.page, 'monitor-0', () => clickCanvas(ui.page, 0.25, 0.5));
    // The click went out before the new picture came; sent, it would have arrived by now. The pointer
    // stays where the last test's click left it, for half a second more.
    for (let i = 0; i < 10; i++) {
      const at = await pointerLocation(ui.xvfb.display);
      assert.ok(
        Math.abs(at.x - 960) <= 4 && Math.abs(at.y - 240) <= 4,
        `the pointer moved to ${at.x},${at.y}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const held = await ui.page.evaluate(() => window.lifelineStats?.pointerEventsHeld ?? 0);
    assert.ok(held > heldBefore, `pointer events held: ${heldBefore} → ${held}`);
    // And the pointer is back: a click on the new picture lands on the left monitor.
    await clickCanvas(ui.page, 0.5, 0.25);
    await pointerNear(ui.xvfb.display, LEFT.width / 2, LEFT.height / 4);
    await chooseMonitor(ui.page, 'monitor-all');
    await ui.page.click('[data-testid=release-control]');
  });

  it('the clipboard is off until the user allows it; asking turns it on', async () => {
    await ui.page.click('[data-testid=tool-clipboard]');
    await ui.page.waitForSelector('[data-testid=clipboard-unavailable]');
    assert.equal(await ui.page.isDisabled('[data-testid=clipboard-input]'), true);
    await ui.page.click('[data-testid=ask-clipboard]');
    // The agent runs with --accept, so the user's answer is yes.
    await ui.page.waitForSelector('[data-testid=permission-clipboard][data-state=on]');
    await ui.page.waitForSelector('[data-testid=clipboard-unavailable]', { state: 'detached' });
  });

  it("text put on the device's clipboard in the console is what a program there pastes", async () => {
    await ui.page.fill('[data-testid=clipboard-input]', 'netsh winsock reset — ünïcode ✓');
    await ui.page.click('[data-testid=clipboard-send]');
    await waitFor('the text on the X clipboard', () =>
      xclip(ui.xvfb.display, ['-o']) === 'netsh winsock reset — ünïcode ✓' ? true : undefined,
    );
    await ui.page.waitForSelector('[data-testid=clipboard-sent]:has-text("Sent 31 characters")');
  });

  it('text copied on the display arrives in the console', async () => {
    xclip(ui.xvfb.display, ['-i'], 'error code 0x80070005');
    await ui.page.waitForSelector('[data-testid=clipboard-device-text]:has-text("error code 0x80070005")');
  });

  it('text over the limit is refused in the console with a clear error', async () => {
    await ui.page.fill('[data-testid=clipboard-input]', 'y'.repeat(10_001));
    await ui.page.click('[data-testid=clipboard-send]');
    assert.match(
      (await ui.page.textContent('[data-testid=clipboard-error]')) ?? '',
      /10,001 characters; at most 10,000/,
    );
    assert.equal(xclip(ui.xvfb.display, ['-o']), 'error code 0x80070005');
  });

  it('each copy is audited with its direction and length, never its text', async () => {
    const cookie = await loginCookie(ui.cp.app);
    const events = await waitFor('two clipboard audit events', async () => {
      const response = await ui.cp.app.request('/api/audit-events?action=session.clipboard', {
        headers: { cookie },
      });
      const body = (await response.json()) as { items: { details: Record<string, unknown> }[] };
      return body.items.length >= 2 ? body.items : undefined;
    });
    const details = events
      .map((event) => event.details)
      .sort((a, b) => String(a['direction']).localeCompare(String(b['direction'])));
    assert.deepEqual(details, [
      { direction: 'from-device', length: 21 },
      { direction: 'to-device', length: 31 },
    ]);
    assert.doesNotMatch(JSON.stringify(events), /winsock|0x80070005/);
  });

  it('the quality plot shows frames per second, kbit/s and the round trip to the device', async () => {
    await ui.page.click('[data-testid=stats]');
    await ui.page.waitForSelector('[data-testid=quality-plot]');
    await ui.page.waitForFunction(() => (window.lifelineStats?.roundTrips ?? 0) >= 2);
    await ui.page.waitForFunction(() =>
      /^\d+ ms$/.test(document.querySelector('[data-testid=quality-rttMs]')?.textContent?.trim() ?? ''),
    );
    const points = await ui.page.getAttribute('[data-testid=quality-fps-line]', 'points');
    assert.ok((points ?? '').split(' ').length >= 2, `fps series: ${points}`);
    assert.match((await ui.page.textContent('[data-testid=stats]')) ?? '', /fps · \d+ kbit\/s · \d+ ms/);
  });

  it("the quality plot shows the agent's adaptation to the link, and the operator's preference reaches the agent", async () => {
    // The plot is open (the test before). The agent says what it chose as soon as the screen streams.
    await ui.page.waitForFunction(() =>
      /^\d+ of \d+ fps( · ≤ [\d,]+ kbit\/s)? · \d+ ms on the way$/.test(
        document.querySelector('[data-testid=quality-adaptation]')?.textContent?.trim() ?? '',
      ),
    );
    assert.equal(await ui.page.inputValue('[data-testid=video-preference]'), 'speed');
    await ui.page.selectOption('[data-testid=video-preference]', 'quality');
    // What the agent now adapts for, as it says itself (`video-adaptation`), not as the select shows.
    await ui.page.waitForSelector('[data-testid=quality-adaptation][data-prefer=quality]');
  });

  it('nothing broke the console CSP or threw in the page', () => {
    assert.deepEqual(ui.problems, []);
  });
});

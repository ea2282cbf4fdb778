import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createInputInjector } from '../../agent/input/input-injector.ts';
import { PlatformMonitors } from '../../agent/node/monitor-layout.ts';
import { createLinuxPlatform } from '../../agent/platform/linux.ts';
import { type Spawned, spawnCollecting, waitFor } from '../support/processes.ts';
import { pointerRecordingRobot } from '../support/recording-robot.ts';
import { searchWindows } from '../support/x-windows.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

function startXterm(display: string, title: string, geometry: string): Spawned {
  return spawnCollecting('xterm', ['-T', title, '-geometry', geometry], { ...process.env, DISPLAY: display });
}

// A real Xvfb with two real xterms; the agent's window list and tracking (x11 package) and its input
// injector, whose robotjs calls are recorded instead of injected.
describe('one shared window confines the operator’s pointer to it', () => {
  let xvfb: Xvfb;
  const xterms: Spawned[] = [];
  let monitors: PlatformMonitors;
  let otherId = '';
  let changes = 0;

  before(async () => {
    xvfb = await startXvfb({ width: 1280, height: 480 });
    // One after the other, and Right raised: with no window manager the stacking order is the order
    // the windows were mapped, and the covering test needs Right above Left.
    xterms.push(startXterm(xvfb.display, 'Left', '40x10+40+40'));
    await waitFor('the left xterm', async () => (await searchWindows(xvfb.display, 'Left'))[0]);
    xterms.push(startXterm(xvfb.display, 'Right', '40x10+700+40'));
    otherId = await waitFor('the right xterm', async () => (await searchWindows(xvfb.display, 'Right'))[0]);
    await runX('xdotool', ['windowraise', otherId], xvfb.display);
    monitors = new PlatformMonitors(createLinuxPlatform({ DISPLAY: xvfb.display }));
    monitors.onWindowChange = () => changes++;
  });

  after(async () => {
    monitors?.close();
    for (const xterm of xterms) await xterm.kill();
    await xvfb?.stop();
  });

  function injector() {
    const { robot, calls } = pointerRecordingRobot({ width: 1280, height: 480 });
    const input = createInputInjector({
      screen: () => monitors.area(),
      accepts: (x, y) => monitors.accepts(x, y),
      robot,
    });
    return { input, calls };
  }

  it('lists both windows by title and shares the chosen one’s rectangle', async () => {
    const windows = await monitors.windows();
    assert.deepEqual(windows.map((w) => w.title).sort(), ['Left', 'Right']);
    const left = windows.find((w) => w.title === 'Left')!;
    assert.equal(await monitors.shareWindow(left), true);
    assert.deepEqual(monitors.window, { title: 'Left', hidden: false });
    assert.deepEqual(monitors.area(), { x: left.x, y: left.y, width: left.width, height: left.height });
  });

  it('a click inside lands in the window; one outside it is dropped, a held button is still lifted', () => {
    const { input, calls } = injector();
    const area = monitors.area();
    input.apply({ kind: 'button', button: 'left', down: true, x: 0.5, y: 0.5 });
    assert.deepEqual(calls, [
      `move ${area.x + Math.floor(area.width / 2)},${area.y + Math.floor(area.height / 2)}`,
      'left down',
    ]);
    input.apply({ kind: 'button', button: 'left', down: false, x: 1.5, y: 0.5 });
    assert.equal(calls.at(-1), 'left up', 'a button released outside is lifted, not left held');
    calls.length = 0;
    input.apply({ kind: 'move', x: 1.5, y: 0.5 });
    input.apply({ kind: 'button', button: 'left', down: true, x: -0.1, y: 0.5 });
    assert.deepEqual(calls, [], 'nothing outside the window reaches the desktop');
    assert.equal(input.stats.ignored, 2);
  });

  it('a window laid over the shared one: its part is blanked and clicks there are dropped', async () => {
    const before = changes;
    await runX('xdotool', ['windowmove', otherId, '100', '60'], xvfb.display);
    await waitFor('the shared window to be covered', () => (changes > before ? true : undefined));
    const area = monitors.area();
    const [covered] = monitors.covered();
    assert.ok(covered, 'the covered part is known');
    const { input, calls } = injector();
    const inside = (covered.x + covered.width / 2) / area.width;
    input.apply({ kind: 'button', button: 'left', down: true, x: inside, y: (covered.y + 2) / area.height });
    assert.deepEqual(calls, [], 'the click on the other window is dropped');
    input.apply({ kind: 'move', x: 1 / area.width, y: 1 / area.height });
    assert.deepEqual(calls, [`move ${area.x + 1},${area.y + 1}`], 'the uncovered part still takes input');
  });

  it('an unmapped window is hidden: no input at all until it shows again', async () => {
    const [id = ''] = await searchWindows(xvfb.display, 'Left');
    await runX('xdotool', ['windowunmap', '--sync', id], xvfb.display);
    await waitFor('the window to be hidden', () => (monitors.window?.hidden ? true : undefined));
    const { input, calls } = injector();
    input.apply({ kind: 'move', x: 0.1, y: 0.1 });
    assert.deepEqual(calls, []);
    await runX('xdotool', ['windowmap', '--sync', id], xvfb.display);
    await waitFor('the window to show again', () => (monitors.window?.hidden === false ? true : undefined));
  });

  it('sharing the whole screen again lifts the confinement', async () => {
    assert.equal(await monitors.shareWindow(null), true);
    assert.equal(monitors.window, undefined);
    assert.equal(monitors.accepts(1.5, 0.5), true);
    assert.deepEqual(monitors.covered(), []);
  });
});

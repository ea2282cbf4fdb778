import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BLOCK_PX, PROBE_STRIP, readCounter } from '../../bench/x11/counter.ts';
import { FULL_SCREEN_COLOURS, fullScreenColourAt } from '../../bench/x11/full-screen.ts';
import { type Probe, startProbe } from '../../bench/x11/probe.ts';
import { waitFor } from '../support/processes.ts';
import { screenPixel } from '../support/screen-capture.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

const SIZE = { width: 800, height: 600 };

function rgb(colour: number): [number, number, number] {
  return [(colour >> 16) & 0xff, (colour >> 8) & 0xff, colour & 0xff];
}

/** The counter as the display shows it, read from the centre of each square. */
function counterOnScreen(display: string): number | undefined {
  return readCounter((square) => {
    const [r, g, b] = screenPixel(
      display,
      PROBE_STRIP.x + square * BLOCK_PX + BLOCK_PX / 2,
      PROBE_STRIP.y + BLOCK_PX / 2,
    );
    return (r + g + b) / 3;
  });
}

/** Points of the screen far from the counter, in squares of both colours. */
const SPOTS = [
  { x: SIZE.width - 10, y: SIZE.height - 10 },
  { x: SIZE.width - 50, y: SIZE.height - 10 },
  { x: SIZE.width / 2 + 5, y: 300 },
];

function assertPattern(display: string, value: number): void {
  for (const { x, y } of SPOTS) {
    assert.deepEqual(
      screenPixel(display, x, y),
      rgb(FULL_SCREEN_COLOURS[fullScreenColourAt(x, y, value)]),
      `pixel ${x},${y} at value ${value}`,
    );
  }
}

// The benchmark's X test client on a real Xvfb, read back from the display with x11grab.
describe('the benchmark test client, full-screen mode', () => {
  let xvfb: Xvfb;
  let probe: Probe;
  before(async () => {
    xvfb = await startXvfb(SIZE);
    probe = await startProbe(xvfb.display);
  });
  after(async () => {
    await probe?.stop();
    await xvfb?.stop();
  });

  it('covers the screen with the checkerboard and keeps the counter readable above it', async () => {
    await probe.fullScreen(true);
    assertPattern(xvfb.display, 0);
    assert.equal(counterOnScreen(xvfb.display), 0);
  });

  it('a key press inverts the whole checkerboard and advances the counter', async () => {
    probe.input(true);
    const pressedAt = Date.now();
    await runX('xdotool', ['key', 'a'], xvfb.display);
    await waitFor('the key press to reach the test client', () =>
      probe.inputsReceived() === 1 ? true : undefined,
    );
    // When the press arrived, on the system clock the viewer page stamps its keydown with.
    const [arrived] = probe.inputTicks();
    assert.equal(arrived?.value, 1);
    assert.ok(arrived.at >= pressedAt - 1 && arrived.at <= Date.now() + 1, `arrived at ${arrived.at}`);
    // A round trip to the test client's X connection: the server has drawn the press's repaint.
    await probe.fullScreen(true);
    assertPattern(xvfb.display, 1);
    assert.equal(counterOnScreen(xvfb.display), 1);
  });

  it('off, the desktop shows again and a press changes only the counter', async () => {
    await probe.fullScreen(false);
    const background = screenPixel(xvfb.display, SIZE.width - 10, SIZE.height - 10);
    assert.ok(
      !FULL_SCREEN_COLOURS.map(rgb).some((colour) => colour.join() === background.join()),
      `background ${background}`,
    );
    await runX('xdotool', ['key', 'a'], xvfb.display);
    await waitFor('the second key press', () => (probe.inputsReceived() === 2 ? true : undefined));
    await probe.fullScreen(false);
    assert.deepEqual(screenPixel(xvfb.display, SIZE.width - 10, SIZE.height - 10), background);
    assert.equal(counterOnScreen(xvfb.display), 2);
  });
});

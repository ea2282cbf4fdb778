import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createInputInjector } from '../../agent/input/input-injector.ts';
import { RAW_VIDEO_INPUT_ARGS } from '../../agent/media/raw-video-feed.ts';
import { commandClipboard } from '../../agent/node/command-clipboard.ts';
import { PlatformMonitors } from '../../agent/node/monitor-layout.ts';
import type { Platform } from '../../agent/platform/platform.ts';
import { createWindowsPlatform } from '../../agent/platform/windows.ts';
import {
  type CaptureBand,
  type CaptureMessage,
  CaptureStreamReader,
} from '../../agent/platform/windows-capture-stream.ts';
import { buildDesktopHelper } from '../../build/agent/desktop-helper.ts';
import { waitFor } from '../support/processes.ts';
import type { PtyProcess } from '../support/pty.ts';
import { rawVideoSink } from '../support/raw-video-stream.ts';
import { pointerRecordingRobot } from '../support/recording-robot.ts';
import { isMarkRed, screenPixel } from '../support/screen-capture.ts';
import { startWine, useXineramaMonitors, type Wine } from '../support/wine.ts';
import { xclip } from '../support/x-clipboard.ts';
import { searchWindows } from '../support/x-windows.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

/** Wine is slow to start a process on a busy machine: every wait here is generous, in ms. */
const WINE_WAIT_MS = 90_000;
/** Two monitors side by side on one X screen, as RandR (and its Xinerama view) describes them. */
const LEFT = { x: 0, y: 0, width: 512, height: 480 };
const RIGHT = { x: 512, y: 0, width: 512, height: 480 };
/** What `capture` reads in its test: part of the right monitor, away from the pointer and the windows. */
const CAPTURED = { x: 600, y: 250, width: 300, height: 200 };
/** How long the desktop is left still while nothing may be captured, in ms. */
const STILL_MS = 5_000;

// The Windows platform of the agent (agent/platform/windows.ts) with its real desktop helper,
// compiled by the build with mingw and run under Wine on Xvfb (a small script starts it with `wine`,
// as Windows would start the .exe); real notepad and winemine windows; the input injector's robotjs
// calls are recorded instead of injected. What Wine cannot show is in the README.
describe('the Windows desktop helper under Wine', { timeout: 15 * 60_000 }, () => {
  let xvfb: Xvfb;
  let wine: Wine;
  let scratch: string;
  let platform: Platform;
  let monitors: PlatformMonitors;
  let notepad: PtyProcess | undefined;
  let winemine: PtyProcess | undefined;
  let changes = 0;
  let launcher: string;

  before(
    async () => {
      scratch = mkdtempSync(join(tmpdir(), 'lifeline-desktop-helper-'));
      const helper = await buildDesktopHelper(scratch);
      xvfb = await startXvfb({ width: 1024, height: 480 });
      await runX('xrandr', ['--setmonitor', 'LEFT', '512/135x480/127+0+0', 'screen'], xvfb.display);
      await runX('xrandr', ['--setmonitor', 'RIGHT', '512/135x480/127+512+0', 'none'], xvfb.display);
      // A green desktop: what shows through the overlay around its marks.
      await runX('xsetroot', ['-solid', '#00c000'], xvfb.display);
      wine = await startWine(xvfb.display);
      await useXineramaMonitors(wine);
      launcher = join(scratch, 'lifeline-desktop');
      const exports = ['WINEPREFIX', 'WINEARCH', 'WINEDEBUG', 'WINEDLLOVERRIDES', 'HOME', 'DISPLAY']
        .map((name) => `${name}='${wine.env[name] ?? ''}'`)
        .join(' ');
      writeFileSync(launcher, `#!/bin/sh\nexport ${exports}\nexec wine '${helper}' "$@"\n`);
      chmodSync(launcher, 0o755);
      platform = createWindowsPlatform({ LIFELINE_DESKTOP_HELPER: launcher });
      monitors = new PlatformMonitors(platform);
      monitors.onWindowChange = () => changes++;
    },
    { timeout: 8 * 60_000 },
  );

  after(async () => {
    monitors?.close();
    await winemine?.kill();
    await notepad?.kill();
    await wine?.stop();
    await xvfb?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  function injector() {
    const { robot, calls } = pointerRecordingRobot({ width: 1024, height: 480 });
    const input = createInputInjector({
      screen: () => monitors.area(),
      accepts: (x, y) => monitors.accepts(x, y),
      robot,
    });
    return { input, calls };
  }

  it('both monitors of a two-monitor X screen are listed (EnumDisplayMonitors), the primary first', () => {
    assert.deepEqual(monitors.list(), [
      { name: '\\\\.\\DISPLAY1', primary: true, ...LEFT },
      { name: '\\\\.\\DISPLAY2', primary: false, ...RIGHT },
    ]);
  });

  it('choosing the right monitor captures its rectangle through the helper, and a click maps onto it', {
    timeout: 2 * WINE_WAIT_MS,
  }, async () => {
    assert.equal(monitors.select(1), true);
    const area = monitors.area();
    assert.deepEqual(area, { name: '\\\\.\\DISPLAY2', primary: false, ...RIGHT });
    const source = platform.captureSource({ framerate: 30, size: area, origin: area });
    assert.deepEqual(source.inputArgs, RAW_VIDEO_INPUT_ARGS, 'ffmpeg reads the frames the agent feeds it');
    const sink = rawVideoSink();
    const errors: string[] = [];
    const feed = source.feed!(sink.stdin, { onError: (message) => errors.push(message) });
    try {
      const [first] = await waitFor(
        'the first frame',
        () => (sink.frames().length > 0 ? sink.frames() : undefined),
        WINE_WAIT_MS,
      );
      assert.equal(first!.data.byteLength, RIGHT.width * RIGHT.height * 4);
      // BGRX: the green desktop at the monitor's top-left corner (the X screen's 512, 0).
      assert.deepEqual([...first!.data.subarray(0, 3)], [0, 0xc0, 0]);
      feed.requestKeyframe();
      const marked = await waitFor(
        'a frame marked a keyframe',
        () => sink.frames().find((frame) => frame.keyframe),
        WINE_WAIT_MS,
      );
      assert.equal(marked.data.byteLength, first!.data.byteLength);
    } finally {
      feed.stop();
    }
    assert.deepEqual(errors, []);
    const { input, calls } = injector();
    input.apply({ kind: 'button', button: 'left', down: true, x: 0.5, y: 0.5 });
    assert.deepEqual(calls, [`move ${RIGHT.x + 256},${240}`, 'left down']);
    monitors.select(null);
  });

  it('notepad is listed among the windows by its title, and sharing it captures only its rectangle', {
    timeout: 2 * WINE_WAIT_MS,
  }, async () => {
    notepad = wine.start('notepad', []);
    const window = await waitFor(
      'notepad among the windows',
      async () => (await monitors.windows()).find((w) => w.title === 'Untitled - Notepad'),
      WINE_WAIT_MS,
      500,
    );
    assert.ok(window.width > 100 && window.height > 100, JSON.stringify(window));
    assert.equal(await monitors.shareWindow(window), true);
    assert.deepEqual(monitors.window, { title: 'Untitled - Notepad', hidden: false });
    const area = monitors.area();
    assert.deepEqual(area, { x: window.x, y: window.y, width: window.width, height: window.height });
    const picture = await captureOnce(area);
    assert.equal(
      picture.rows.byteLength,
      area.width * area.height * 4,
      "the capture is the window's rectangle",
    );
  });

  it('a click inside lands in the window; one outside it is dropped', () => {
    const { input, calls } = injector();
    const area = monitors.area();
    input.apply({ kind: 'button', button: 'left', down: true, x: 0.5, y: 0.5 });
    input.apply({ kind: 'button', button: 'left', down: false, x: 0.5, y: 0.5 });
    const middle = `move ${area.x + Math.floor(area.width / 2)},${area.y + Math.floor(area.height / 2)}`;
    assert.deepEqual(calls, [middle, 'left down', middle, 'left up']);
    calls.length = 0;
    input.apply({ kind: 'move', x: 1.2, y: 0.5 });
    input.apply({ kind: 'button', button: 'left', down: true, x: 1.2, y: 0.5 });
    assert.deepEqual(calls, [], 'nothing outside the window reaches the desktop');
  });

  it('the shared window is followed when it moves', { timeout: WINE_WAIT_MS }, async () => {
    const [id] = await searchWindows(xvfb.display, 'Untitled - Notepad');
    assert.ok(id, 'notepad has an X window');
    await runX('xdotool', ['windowmove', id, '400', '100'], xvfb.display);
    const area = await waitFor(
      'the shared area to follow the window',
      () => (monitors.area().x >= 350 ? monitors.area() : undefined),
      WINE_WAIT_MS,
    );
    assert.ok(area.y >= 50, JSON.stringify(area));
  });

  it('a window laid over the shared one: its part is covered (blanked) and clicks there are dropped', {
    timeout: 2 * WINE_WAIT_MS,
  }, async () => {
    winemine = wine.start('winemine', []);
    const [id] = await waitFor(
      'winemine to open',
      async () => {
        const ids = await searchWindows(xvfb.display, 'WineMine');
        return ids.length > 0 ? ids : undefined;
      },
      WINE_WAIT_MS,
    );
    const area = monitors.area();
    await runX('xdotool', ['windowmove', id!, String(area.x + 40), String(area.y + 40)], xvfb.display);
    const [covered] = await waitFor(
      'the shared window to be covered',
      () => (monitors.covered().length > 0 ? monitors.covered() : undefined),
      WINE_WAIT_MS,
    );
    assert.ok(covered!.x > 0 && covered!.y > 0, JSON.stringify(covered));
    const { input, calls } = injector();
    input.apply({
      kind: 'button',
      button: 'left',
      down: true,
      x: (covered!.x + covered!.width / 2) / area.width,
      y: (covered!.y + 5) / area.height,
    });
    assert.deepEqual(calls, [], 'the click on the other window is dropped');
    input.apply({ kind: 'move', x: 1 / area.width, y: 1 / area.height });
    assert.deepEqual(calls, [`move ${area.x + 1},${area.y + 1}`], 'the uncovered part still takes input');
  });

  it('a closed window is gone: nothing is shown and no input lands', { timeout: WINE_WAIT_MS }, async () => {
    const before = changes;
    await notepad!.kill();
    await waitFor(
      'the shared window to be gone',
      () => (monitors.window?.hidden ? true : undefined),
      WINE_WAIT_MS,
    );
    assert.ok(changes > before);
    assert.deepEqual(monitors.area(), { x: 0, y: 0, width: 0, height: 0 });
    const { input, calls } = injector();
    input.apply({ kind: 'move', x: 0.5, y: 0.5 });
    assert.deepEqual(calls, []);
    assert.equal(await monitors.shareWindow(null), true);
  });

  it('guidance marks are painted over the desktop by a topmost layered window, and cleared', {
    timeout: 2 * WINE_WAIT_MS,
  }, async () => {
    const overlay = platform.guidanceOverlay!();
    const at = { x: RIGHT.x + 200, y: 300 };
    try {
      assert.equal(
        isMarkRed(screenPixel(xvfb.display, at.x + 10, at.y + 10)),
        false,
        'nothing red there before',
      );
      await overlay.show([{ colour: 0xff0000, rectangles: [{ x: at.x, y: at.y, width: 40, height: 30 }] }]);
      await waitFor(
        'the mark on the screen',
        () => isMarkRed(screenPixel(xvfb.display, at.x + 10, at.y + 10)),
        WINE_WAIT_MS,
        500,
      );
      const [r, g, b] = screenPixel(xvfb.display, at.x - 20, at.y + 10);
      assert.ok(r < 60 && g > 150 && b < 60, `the desktop beside the mark shows through: ${[r, g, b]}`);
      await overlay.show([]);
      await waitFor(
        'the mark to go',
        () => !isMarkRed(screenPixel(xvfb.display, at.x + 10, at.y + 10)),
        WINE_WAIT_MS,
        500,
      );
    } finally {
      await overlay.close();
    }
  });

  it("text written to the clipboard is on Wine's clipboard (what an X program pastes, and the helper reads back)", {
    timeout: WINE_WAIT_MS,
  }, async () => {
    const clipboard = commandClipboard(platform.clipboard!);
    await clipboard.write('netsh winsock reset — ünïcode ✓\nsecond line');
    await waitFor(
      'the text on the X clipboard',
      () =>
        xclip(xvfb.display, ['-o']) === 'netsh winsock reset — ünïcode ✓\nsecond line' ? true : undefined,
      WINE_WAIT_MS,
      500,
    );
    assert.equal(await clipboard.read(), 'netsh winsock reset — ünïcode ✓\nsecond line');
    await clipboard.close();
  });

  it('text copied outside Wine is read from the Windows clipboard', { timeout: WINE_WAIT_MS }, async () => {
    const clipboard = commandClipboard(platform.clipboard!);
    xclip(xvfb.display, ['-i'], 'error code 0x80070005');
    const text = await waitFor(
      'the helper to read the copy',
      async () =>
        (await clipboard.read()) === 'error code 0x80070005' ? 'error code 0x80070005' : undefined,
      WINE_WAIT_MS,
      500,
    );
    assert.equal(text, 'error code 0x80070005');
  });

  /** The helper's first picture of `area`, read with `capture` and the agent's reader. */
  async function captureOnce(area: { x: number; y: number; width: number; height: number }) {
    const capture = startCapture(area);
    try {
      return await waitFor('the first picture', () => capture.bands[0], WINE_WAIT_MS);
    } finally {
      capture.child.stdin.end();
    }
  }

  /**
   * `lifeline-desktop capture` on `area` (the cursor apart with `cursor`): its bands as they come,
   * the picture they make, and the cursor messages.
   */
  function startCapture(area: { x: number; y: number; width: number; height: number }, cursor = false) {
    const child = spawn(
      launcher,
      [
        'capture',
        ...[area.x, area.y, area.width, area.height, 30].map(String),
        ...(cursor ? ['cursor'] : []),
      ],
      { stdio: 'pipe' },
    );
    const reader = new CaptureStreamReader(area);
    const bands: CaptureBand[] = [];
    const cursorMessages: Exclude<CaptureMessage, CaptureBand>[] = [];
    const picture = Buffer.alloc(area.width * area.height * 4);
    child.stdout.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        if (message.kind !== 'band') {
          cursorMessages.push(message);
          continue;
        }
        message.rows.copy(picture, message.firstRow * area.width * 4);
        bands.push({ ...message, rows: Buffer.from(message.rows) });
      }
    });
    child.stderr.resume();
    const pixel = (x: number, y: number) => {
      const at = (y * area.width + x) * 4;
      return [picture[at + 2]!, picture[at + 1]!, picture[at]!] as [number, number, number];
    };
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    return { child, bands, cursorMessages, pixel, exited };
  }

  it('capture writes the first picture at once, nothing while the desktop is still, the rows a drawing changed, and the whole picture on "keyframe"', {
    timeout: 4 * WINE_WAIT_MS,
  }, async () => {
    const capture = startCapture(CAPTURED);
    const overlay = platform.guidanceOverlay!();
    try {
      await waitFor('the first picture', () => capture.bands[0], WINE_WAIT_MS);
      assert.equal(capture.bands[0]!.whole, true);
      assert.deepEqual(capture.pixel(150, 100), [0, 0xc0, 0], 'the green desktop');

      await new Promise((resolve) => setTimeout(resolve, STILL_MS));
      assert.equal(capture.bands.length, 1, 'nothing is written while the desktop is still');

      // A red mark at (100, 50) of the captured rectangle, drawn by a Windows program (the overlay).
      await overlay.show([
        {
          colour: 0xff0000,
          rectangles: [{ x: CAPTURED.x + 100, y: CAPTURED.y + 50, width: 40, height: 30 }],
        },
      ]);
      await waitFor('the mark in the picture', () => isMarkRed(capture.pixel(110, 60)), WINE_WAIT_MS, 200);
      const changed = capture.bands.slice(1);
      assert.ok(changed.length > 0);
      for (const band of changed) {
        assert.equal(band.whole, false, 'a change is sent as the rows it touched');
        assert.ok(
          band.firstRow <= 50 && band.firstRow + band.rowCount >= 80,
          JSON.stringify({ ...band, rows: 0 }),
        );
      }
      assert.deepEqual(capture.pixel(150, 100), [0, 0xc0, 0], 'the desktop around the mark is as it was');

      const before = capture.bands.length;
      capture.child.stdin.write('keyframe\n');
      const again = await waitFor('the picture again', () => capture.bands[before], WINE_WAIT_MS);
      assert.equal(again.whole, true);
      assert.equal(again.rows.byteLength, CAPTURED.width * CAPTURED.height * 4);
      const at = (60 * CAPTURED.width + 110) * 4;
      assert.ok(isMarkRed([again.rows[at + 2]!, again.rows[at + 1]!, again.rows[at]!]), 'the mark is in it');
    } finally {
      await overlay.close();
      capture.child.stdin.end();
    }
    assert.equal(await capture.exited, 0, 'the helper ends when its stdin closes');
  });

  it('with `cursor` the cursor comes apart: its image once, and its position each time it moves', {
    timeout: 3 * WINE_WAIT_MS,
  }, async () => {
    const capture = startCapture(CAPTURED, true);
    try {
      await waitFor('the first picture', () => capture.bands[0], WINE_WAIT_MS);
      const shape = await waitFor(
        "the cursor's image",
        () => capture.cursorMessages.find((m) => m.kind === 'cursor-shape'),
        WINE_WAIT_MS,
      );
      assert.ok(shape.kind === 'cursor-shape');
      const { width, height, rgba } = shape.shape;
      assert.equal(rgba.byteLength, width * height * 4);
      // Over a Wine window the arrow (Wine cannot draw another process's cursor); over the bare X
      // desktop Wine hides it: one transparent pixel.
      const opaque = rgba.filter((_, i) => i % 4 === 3 && rgba[i] === 255).length;
      assert.ok(width === 1 ? opaque === 0 : opaque > 20, `${width}x${height}, ${opaque} opaque pixels`);
      await runX('xdotool', ['mousemove', String(CAPTURED.x + 30), String(CAPTURED.y + 40)], xvfb.display);
      await waitFor(
        'the new position',
        () =>
          capture.cursorMessages.some(
            (m) => m.kind === 'pointer' && m.position.x === 30 && m.position.y === 40,
          ),
        WINE_WAIT_MS,
      );
      const bands = capture.bands.length;
      await runX('xdotool', ['mousemove', String(CAPTURED.x + 130), String(CAPTURED.y + 90)], xvfb.display);
      await waitFor(
        'the next position',
        () =>
          capture.cursorMessages.some(
            (m) => m.kind === 'pointer' && m.position.x === 130 && m.position.y === 90,
          ),
        WINE_WAIT_MS,
      );
      assert.equal(capture.bands.length, bands, 'the picture, without the cursor, did not change');
    } finally {
      capture.child.stdin.end();
    }
  });
});

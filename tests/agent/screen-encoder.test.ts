import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NalType, nalUnits } from '../../agent/media/annexb.ts';
import { findOnPath, resolveFfmpeg } from '../../agent/media/ffmpeg-path.ts';
import {
  type EncodedAccessUnit,
  type ScreenEncoder,
  type ScreenEncoderConfig,
  type ScreenEncoderExit,
  startScreenEncoder,
} from '../../agent/media/screen-encoder.ts';
import { createLinuxPlatform } from '../../agent/platform/linux.ts';
import type { Platform, ScreenSize } from '../../agent/platform/platform.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

const ffmpeg = resolveFfmpeg().path;
/** Decoded frames are shrunk to this size so that a whole recording fits in a few KB. */
const THUMB = { width: 32, height: 18 };

/**
 * The real Linux platform for this display, except that the screen size comes from the X server
 * through xdpyinfo: robotjs would keep an X connection open in this process, and Xlib exits the
 * process when that server is stopped. The input tests cover robotjs's screen size.
 */
async function platformFor(xvfb: Xvfb): Promise<Platform> {
  const info = await runX('xdpyinfo', [], xvfb.display);
  const match = /dimensions:\s+(\d+)x(\d+) pixels/.exec(info);
  assert.ok(match, info);
  const size: ScreenSize = { width: Number(match[1]), height: Number(match[2]) };
  return { ...createLinuxPlatform({ DISPLAY: xvfb.display }), screenSize: () => size };
}

/** Decodes Annex-B H.264 with ffmpeg into RGB thumbnails, one per frame. */
function decodeThumbnails(units: readonly EncodedAccessUnit[]): Uint8Array[] {
  const result = spawnSync(
    ffmpeg,
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'h264', '-i', 'pipe:0'],
      ...[
        '-vsync',
        '0',
        '-vf',
        `scale=${THUMB.width}:${THUMB.height}`,
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        'pipe:1',
      ],
    ],
    { input: Buffer.concat(units.map((unit) => unit.data)), maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(result.status, 0, result.stderr.toString());
  const frameBytes = THUMB.width * THUMB.height * 3;
  const frames: Uint8Array[] = [];
  for (let at = 0; at + frameBytes <= result.stdout.byteLength; at += frameBytes) {
    frames.push(result.stdout.subarray(at, at + frameBytes));
  }
  return frames;
}

/** The colour of the thumbnail's top-left corner, away from the pointer Xvfb puts in the middle. */
function cornerColour(frame: Uint8Array | undefined): [number, number, number] {
  assert.ok(frame);
  const at = (2 * THUMB.width + 2) * 3;
  return [frame[at] ?? -1, frame[at + 1] ?? -1, frame[at + 2] ?? -1];
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function waitFor<T>(what: string, read: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    for (;;) {
      const value = read();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  })();
}

describe('startScreenEncoder on a real Xvfb display', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function display(width: number, height: number): Promise<Xvfb> {
    const xvfb = await startXvfb({ width, height });
    cleanups.push(() => xvfb.stop());
    return xvfb;
  }

  function start(platform: Platform, events: { units: EncodedAccessUnit[]; configs: ScreenEncoderConfig[] }) {
    let exit: ScreenEncoderExit | undefined;
    const encoder: ScreenEncoder = startScreenEncoder({
      ffmpegPath: ffmpeg,
      platform,
      framerate: 30,
      keyframeIntervalMs: 500,
      onConfig: (config) => {
        assert.equal(events.units.length, 0, 'onConfig comes before the first unit');
        events.configs.push(config);
      },
      onAccessUnit: (unit) => events.units.push(unit),
      onExit: (info) => {
        exit = info;
      },
    });
    cleanups.push(() => encoder.stop());
    return { encoder, exit: () => exit };
  }

  it('streams what is on the screen, starting with a keyframe, and stops without leaving ffmpeg behind', async () => {
    const xvfb = await display(1280, 720);
    await runX('xsetroot', ['-solid', '#ff0000'], xvfb.display);
    const events = { units: [] as EncodedAccessUnit[], configs: [] as ScreenEncoderConfig[] };
    const { encoder, exit } = start(await platformFor(xvfb), events);
    assert.ok(processExists(encoder.pid));

    await waitFor('a few frames', () => (events.units.length >= 10 ? true : undefined));
    const unitsBeforeChange = events.units.length;
    await runX('xsetroot', ['-solid', '#0000ff'], xvfb.display);
    // x264 runs without lookahead, so frames captured after the change come out within a few units;
    // 15 units (half a second) leaves a wide margin.
    await waitFor('frames after the colour change', () =>
      events.units.length >= unitsBeforeChange + 15 ? true : undefined,
    );
    await encoder.stop();
    assert.equal(processExists(encoder.pid), false, 'ffmpeg is gone once stop() resolves');
    const exited = await waitFor('onExit', exit);
    assert.equal(exited.stopped, true);

    assert.equal(events.configs.length, 1);
    const [config] = events.configs;
    assert.equal(config?.width, 1280);
    assert.equal(config?.height, 720);
    assert.equal(config?.framerate, 30);
    assert.match(config?.codec ?? '', /^avc1\.42[0-9A-F]{4}$/);

    const [first] = events.units;
    assert.equal(first?.keyframe, true);
    assert.ok(first && nalUnits(first.data).some((nal) => nal.type === NalType.sps));
    assert.ok(
      events.units.some((unit) => !unit.keyframe),
      'delta frames follow the keyframe',
    );
    const times = events.units.map((unit) => unit.captureTime);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );

    const frames = decodeThumbnails(events.units);
    assert.equal(frames.length, events.units.length);
    const [r, g, b] = cornerColour(frames[0]);
    assert.ok(r > 200 && g < 60 && b < 60, `first frame is red, got rgb(${r}, ${g}, ${b})`);
    const [r2, g2, b2] = cornerColour(frames.at(-1));
    assert.ok(b2 > 200 && r2 < 60 && g2 < 60, `last frame is blue, got rgb(${r2}, ${g2}, ${b2})`);
  });

  it('encodes an odd-sized screen at the even size below it', async () => {
    const xvfb = await display(641, 481);
    const events = { units: [] as EncodedAccessUnit[], configs: [] as ScreenEncoderConfig[] };
    const { encoder } = start(await platformFor(xvfb), events);
    await waitFor('the first keyframe', () => events.units[0]);
    await encoder.stop();
    assert.deepEqual(
      events.configs.map(({ width, height }) => ({ width, height })),
      [{ width: 640, height: 480 }],
    );
    const probe = spawnSync(ffmpeg, ['-hide_banner', '-f', 'h264', '-i', 'pipe:0'], {
      input: events.units[0]?.data,
    });
    assert.match(probe.stderr.toString(), /Video: h264 .*640x480/);
  });

  it('reports an ffmpeg that dies on its own, with the end of its stderr', async () => {
    const xvfb = await display(320, 240);
    const events = { units: [] as EncodedAccessUnit[], configs: [] as ScreenEncoderConfig[] };
    const { encoder, exit } = start(await platformFor(xvfb), events);
    await waitFor('the first keyframe', () => events.units[0]);
    await xvfb.stop();
    const exited = await waitFor('onExit', exit);
    assert.equal(exited.stopped, false);
    assert.ok(exited.code !== 0 || exited.signal !== null, JSON.stringify(exited));
    assert.equal(processExists(encoder.pid), false);
  });

  it('keeps the error ffmpeg printed when it cannot open the display', async (t) => {
    // The static ffmpeg 4.1 from @ffmpeg-installer crashes (SIGSEGV) without a word when x11grab
    // cannot connect; a distribution ffmpeg prints why, which is what the tail is for.
    const systemFfmpeg = findOnPath('ffmpeg');
    if (!systemFfmpeg) return t.skip('no ffmpeg on PATH');
    let exit: ScreenEncoderExit | undefined;
    const platform: Platform = {
      ...createLinuxPlatform({ DISPLAY: ':4242' }),
      screenSize: () => ({ width: 320, height: 240 }),
    };
    const encoder = startScreenEncoder({
      ffmpegPath: systemFfmpeg,
      platform,
      onConfig: () => {},
      onAccessUnit: () => {},
      onExit: (info) => {
        exit = info;
      },
    });
    cleanups.push(() => encoder.stop());
    const exited = await waitFor('onExit', () => exit);
    assert.equal(exited.stopped, false);
    assert.notEqual(exited.code, 0);
    assert.match(exited.stderrTail, /:4242/);
  });
});

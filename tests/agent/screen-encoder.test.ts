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
import type { Platform } from '../../agent/platform/platform.ts';
import { DEFAULT_CACHE_DIR } from '../../build/agent/build-executable.ts';
import { buildX264Encoder } from '../../build/agent/x264-encoder.ts';
import { waitFor } from '../support/processes.ts';
import { cornerColour, decodeThumbnails, platformFor, THUMB } from '../support/screen-capture.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

const ffmpeg = resolveFfmpeg().path;
const x264 = await buildX264Encoder(DEFAULT_CACHE_DIR);

/** How the screen is encoded: by ffmpeg from raw frames (as on Linux before), or by lifeline-x264. */
interface EncoderChoice {
  ffmpegPath?: string;
  x264Path?: string;
}
const ENCODERS: [string, EncoderChoice][] = [
  ['ffmpeg', { ffmpegPath: ffmpeg }],
  ['lifeline-x264', { x264Path: x264 }],
];

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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

  function start(
    platform: Platform,
    events: { units: EncodedAccessUnit[]; configs: ScreenEncoderConfig[] },
    options: EncoderChoice & { keyframeIntervalFrames?: number } = { keyframeIntervalFrames: 15 },
  ) {
    let exit: ScreenEncoderExit | undefined;
    const encoder: ScreenEncoder = startScreenEncoder({
      ...(options.x264Path ? { x264Path: options.x264Path } : { ffmpegPath: options.ffmpegPath ?? ffmpeg }),
      platform,
      framerate: 30,
      ...(options.keyframeIntervalFrames ? { keyframeIntervalFrames: options.keyframeIntervalFrames } : {}),
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

  for (const [label, choice] of ENCODERS) {
    it(`streams what is on the screen, starting with a keyframe, and stops without leaving its encoder behind (${label})`, async () => {
      const xvfb = await display(1280, 720);
      await runX('xsetroot', ['-solid', '#ff0000'], xvfb.display);
      const events = { units: [] as EncodedAccessUnit[], configs: [] as ScreenEncoderConfig[] };
      const { encoder, exit } = start(await platformFor(xvfb), events, {
        ...choice,
        keyframeIntervalFrames: 15,
      });
      assert.equal(encoder.program, label);
      assert.ok(processExists(encoder.pid));

      await waitFor('the first keyframe', () => events.units[0]);
      const unitsBeforeChange = events.units.length;
      await runX('xsetroot', ['-solid', '#0000ff'], xvfb.display);
      await waitFor('frames after the colour change', () =>
        events.units.length > unitsBeforeChange ? true : undefined,
      );
      // A grab can catch the root window half repainted; the next grab brings the rest.
      await sleep(500);
      await encoder.stop();
      assert.equal(processExists(encoder.pid), false, 'the encoder is gone once stop() resolves');
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

      const frames = decodeThumbnails(events.units.map((unit) => unit.data));
      assert.equal(frames.length, events.units.length);
      const [r, g, b] = cornerColour(frames[0]);
      assert.ok(r > 200 && g < 60 && b < 60, `first frame is red, got rgb(${r}, ${g}, ${b})`);
      const [r2, g2, b2] = cornerColour(frames.at(-1));
      assert.ok(b2 > 200 && r2 < 60 && g2 < 60, `last frame is blue, got rgb(${r2}, ${g2}, ${b2})`);
    });

    it(`a still screen yields no units after its first picture, and a change brings them back (${label})`, async () => {
      const xvfb = await display(640, 360);
      await runX('xsetroot', ['-solid', '#00a000'], xvfb.display);
      const events = { units: [] as EncodedAccessUnit[], configs: [] as ScreenEncoderConfig[] };
      const { encoder } = start(await platformFor(xvfb), events, { ...choice, keyframeIntervalFrames: 15 });
      await waitFor('the first keyframe', () => events.units[0]);
      // Let anything still settling on the display (the pointer appearing) come through first.
      await sleep(1000);
      const unitsWhenStill = events.units.length;
      // 2 s at 30 frames per second: 60 grabs, each identical to the one before.
      await sleep(2000);
      assert.equal(events.units.length, unitsWhenStill, 'nothing is encoded while nothing changes');

      await runX('xsetroot', ['-solid', '#a000a0'], xvfb.display);
      await waitFor('frames after the colour change', () =>
        events.units.length > unitsWhenStill ? true : undefined,
      );
      await sleep(500);
      await encoder.stop();
      const frames = decodeThumbnails(events.units.map((unit) => unit.data));
      const [r, g, b] = cornerColour(frames.at(-1));
      assert.ok(r > 140 && b > 140 && g < 60, `last frame is purple, got rgb(${r}, ${g}, ${b})`);
    });

    it(`encodes an odd-sized screen at the even size below it (${label})`, async () => {
      const xvfb = await display(641, 481);
      const events = { units: [] as EncodedAccessUnit[], configs: [] as ScreenEncoderConfig[] };
      const { encoder } = start(await platformFor(xvfb), events, choice);
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

    it(`reports an encoder that dies on its own (${label})`, async () => {
      const xvfb = await display(320, 240);
      const events = { units: [] as EncodedAccessUnit[], configs: [] as ScreenEncoderConfig[] };
      const { encoder, exit } = start(await platformFor(xvfb), events, choice);
      await waitFor('the first keyframe', () => events.units[0]);
      await xvfb.stop();
      const exited = await waitFor('onExit', exit);
      assert.equal(exited.stopped, false);
      assert.ok(exited.code !== 0 || exited.signal !== null, JSON.stringify(exited));
      assert.equal(processExists(encoder.pid), false);
    });
  }

  // The agent's own ffmpeg (4.1, @ffmpeg-installer) and, where there is one, the distribution's
  // (FFMPEG_PATH may name any): both must honour the marks.
  const keyframeEncoders: [string, EncoderChoice][] = [
    ["the agent's ffmpeg", { ffmpegPath: ffmpeg }],
    ['lifeline-x264', { x264Path: x264 }],
  ];
  const systemFfmpeg = findOnPath('ffmpeg');
  if (systemFfmpeg && systemFfmpeg !== ffmpeg)
    keyframeEncoders.push(["the system's ffmpeg", { ffmpegPath: systemFfmpeg }]);
  for (const [label, choice] of keyframeEncoders) {
    it(`makes a keyframe exactly when asked, at once on a still screen, and none unasked (${label})`, async () => {
      const xvfb = await display(640, 360);
      await runX('xsetroot', ['-solid', '#00a000'], xvfb.display);
      const events = { units: [] as EncodedAccessUnit[], configs: [] as ScreenEncoderConfig[] };
      const { encoder } = start(await platformFor(xvfb), events, choice);
      const requestKeyframe = encoder.requestKeyframe;
      assert.ok(requestKeyframe, 'a fed encoder takes keyframe requests');
      // Asked before the first frame, as the relay does for the first viewer: the first frame is a
      // keyframe anyway, and the request must not upset the marks of the frames after it.
      requestKeyframe();
      await waitFor('the first keyframe', () => events.units[0]);
      const isIdr = (unit: EncodedAccessUnit | undefined) =>
        unit !== undefined && nalUnits(unit.data).some((nal) => nal.type === NalType.idr);
      const changeTo = async (colour: string) => {
        const before = events.units.length;
        await runX('xsetroot', ['-solid', colour], xvfb.display);
        await waitFor(`the screen turned ${colour}`, () => (events.units.length > before ? true : undefined));
      };

      // The screen is still: only the request can bring a unit.
      await sleep(1000);
      const still = events.units.length;
      requestKeyframe();
      const answer = await waitFor('the keyframe asked for', () => events.units[still]);
      assert.equal(answer.keyframe, true, 'the unit answering the request is a keyframe');
      assert.ok(isIdr(answer), 'an IDR picture');
      assert.equal(decodeThumbnails([answer.data]).length, 1, 'it decodes alone');

      for (const colour of ['#a000a0', '#0000c0', '#c0c000']) await changeTo(colour);
      const asked = events.units.length;
      requestKeyframe();
      await waitFor('the second keyframe asked for', () => events.units[asked]);
      await changeTo('#00c0c0');
      await sleep(500);
      await encoder.stop();
      assert.deepEqual(
        events.units.map((unit, index) => (unit.keyframe ? index : undefined)).filter((i) => i !== undefined),
        [0, still, asked],
        'keyframes are the first unit and the two asked for, no others',
      );
      assert.deepEqual(
        events.units.map(isIdr),
        events.units.map((unit) => unit.keyframe),
        "the unit's keyframe flag and the IDR picture agree",
      );
    });
  }

  it('lifeline-x264 lowers the quality from the next frame on, without a restart', async () => {
    const xvfb = await display(640, 360);
    // A fine two-colour weave: detail that costs bytes, and costs fewer at a lower quality.
    await runX('xsetroot', ['-mod', '3', '3', '-fg', '#ff8800', '-bg', '#0044aa'], xvfb.display);
    const events = { units: [] as EncodedAccessUnit[], configs: [] as ScreenEncoderConfig[] };
    const { encoder } = start(await platformFor(xvfb), events, { x264Path: x264 });
    const { requestKeyframe, setQuality } = encoder;
    assert.ok(requestKeyframe && setQuality, 'lifeline-x264 takes keyframe requests and quality changes');
    await waitFor('the first keyframe', () => events.units[0]);
    await sleep(1000);
    const keyframeNow = async () => {
      const before = events.units.length;
      requestKeyframe();
      return waitFor('the keyframe asked for', () => events.units[before]);
    };
    const sharp = await keyframeNow();
    setQuality(45);
    const blurred = await keyframeNow();
    assert.ok(processExists(encoder.pid), 'the same encoder goes on');
    await encoder.stop();
    assert.equal(events.configs.length, 1, 'one stream, configured once');
    assert.ok(sharp.keyframe && blurred.keyframe);
    assert.ok(
      blurred.data.byteLength < sharp.data.byteLength / 2,
      `the same picture at CRF 45 (${blurred.data.byteLength} B) is far smaller than at 23 (${sharp.data.byteLength} B)`,
    );
  });

  it('lifeline-x264 paints the covered parts of the screen black', async () => {
    const xvfb = await display(320, 240);
    await runX('xsetroot', ['-solid', '#ff0000'], xvfb.display);
    const events = { units: [] as EncodedAccessUnit[], configs: [] as ScreenEncoderConfig[] };
    const encoder = startScreenEncoder({
      x264Path: x264,
      platform: await platformFor(xvfb),
      covered: [{ x: 0, y: 0, width: 100, height: 100 }],
      onConfig: (config) => events.configs.push(config),
      onAccessUnit: (unit) => events.units.push(unit),
      onExit: () => {},
    });
    cleanups.push(() => encoder.stop());
    await waitFor('the first keyframe', () => events.units[0]);
    await encoder.stop();
    const [frame] = decodeThumbnails(events.units.map((unit) => unit.data));
    const [r, g, b] = cornerColour(frame);
    assert.ok(r < 40 && g < 40 && b < 40, `the covered corner is black, got rgb(${r}, ${g}, ${b})`);
    assert.ok(frame);
    const last = (THUMB.width * THUMB.height - 3) * 3;
    assert.ok((frame[last] ?? 0) > 200, 'the rest stays red');
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

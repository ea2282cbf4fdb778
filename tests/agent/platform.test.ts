import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { resolveFfmpeg } from '../../agent/media/ffmpeg-path.ts';
import { RAW_VIDEO_INPUT_ARGS } from '../../agent/media/raw-video-feed.ts';
import { createDarwinPlatform } from '../../agent/platform/darwin.ts';
import { isPlatformError } from '../../agent/platform/errors.ts';
import { createLinuxPlatform } from '../../agent/platform/linux.ts';
import { currentPlatform } from '../../agent/platform/platform.ts';
import { createWindowsPlatform } from '../../agent/platform/windows.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

/** A variable, not a literal, so neither tsc's index-signature rule nor biome's literal-key rule objects. */
const DISPLAY = 'DISPLAY';

describe('platforms', () => {
  let xvfb: Xvfb;
  const savedDisplay = process.env[DISPLAY];

  before(async () => {
    xvfb = await startXvfb({ width: 320, height: 200 });
  });

  after(async () => {
    if (savedDisplay === undefined) delete process.env[DISPLAY];
    else process.env[DISPLAY] = savedDisplay;
    await xvfb?.stop();
  });

  it('picks the Linux platform here, and its capture feeds ffmpeg that X display through its input', async () => {
    process.env[DISPLAY] = xvfb.display;
    const platform = currentPlatform();
    assert.equal(platform.os, 'linux');
    const capture = platform.captureSource({ framerate: 10, size: { width: 320, height: 200 } });
    assert.ok(capture.feed, 'Linux capture reads the screen itself, on X DAMAGE');
    const ffmpeg = spawn(resolveFfmpeg().path, [
      // Probing as the encoder does (agent/media/screen-encoder.ts): a still screen writes one frame,
      // which ffmpeg's default probe would wait on for more.
      ...[
        '-hide_banner',
        '-loglevel',
        'error',
        '-probesize',
        '32',
        '-analyzeduration',
        '0',
        ...capture.inputArgs,
      ],
      ...['-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    ]);
    const errors: string[] = [];
    const feed = capture.feed(ffmpeg.stdin, { onError: (message) => errors.push(message) });
    ffmpeg.stdin.on('error', () => {});
    const chunks: Buffer[] = [];
    ffmpeg.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    const [code] = await once(ffmpeg, 'close');
    feed.stop();
    assert.equal(code, 0);
    assert.deepEqual(errors, []);
    assert.equal(Buffer.concat(chunks).byteLength, 320 * 200 * 3);
  });

  it('refuses an X display it cannot open with a PlatformError instead of crashing in robotjs', () => {
    // robotjs falls back to DISPLAY when the display it is given cannot be opened.
    delete process.env[DISPLAY];
    const platform = createLinuxPlatform({ DISPLAY: ':4243' });
    assert.throws(
      () => platform.screenSize(),
      (error: unknown) => isPlatformError(error, 'display-unreachable') && /:4243/.test(error.message),
    );
    assert.throws(
      () => platform.robot(),
      (error: unknown) => isPlatformError(error, 'display-unreachable'),
    );
  });

  it('captures the primary screen from the origin on Windows and the main display without audio on macOS', () => {
    const size = { width: 1920, height: 1080 };
    // Run from source, without the desktop helper: gdigrab grabs on a clock.
    const windows = createWindowsPlatform({}).captureSource({ framerate: 30, size }).inputArgs;
    assert.deepEqual(windows.slice(windows.indexOf('-offset_x')), [
      ...['-offset_x', '0', '-offset_y', '0', '-video_size', '1920x1080', '-i', 'desktop'],
    ]);
    assert.equal(windows[windows.indexOf('-f') + 1], 'gdigrab');
    // With it, ffmpeg reads the frames the helper's capture feeds (tests/windows run it under Wine).
    const helped = createWindowsPlatform({ LIFELINE_DESKTOP_HELPER: 'lifeline-desktop.exe' }).captureSource({
      framerate: 30,
      size,
    });
    assert.deepEqual(helped.inputArgs, RAW_VIDEO_INPUT_ARGS);
    assert.equal(typeof helped.feed, 'function');
    const darwin = createDarwinPlatform().captureSource({ framerate: 30, size }).inputArgs;
    assert.equal(darwin[darwin.indexOf('-f') + 1], 'avfoundation');
    assert.equal(darwin[darwin.indexOf('-pixel_format') + 1], 'uyvy422');
    assert.equal(darwin.at(-1), 'Capture screen 0:none');
  });
});

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveFfmpeg } from '../../agent/media/ffmpeg-path.ts';
import { LEAVE_AFTER_MS } from '../../agent/media/video-mode.ts';
import { X264FrameWriter, X264UnitReader, x264Arguments } from '../../agent/media/x264-stream.ts';
import { startX11Capture } from '../../agent/platform/x11-capture.ts';
import { DEFAULT_CACHE_DIR } from '../../build/agent/build-executable.ts';
import { buildX264Encoder } from '../../build/agent/x264-encoder.ts';
import { waitFor } from '../support/processes.ts';
import { runX, startXvfb } from '../support/xvfb.ts';

// In video mode the capture hands lifeline-x264 the rows through its MIT-SHM segment (LLF3, acked
// with LLA1) instead of down the pipe; what the encoder shows must still be the screen, also once the
// motion stops and the capture compares rows again.

const SIZE = { width: 1920, height: 1080 };
const FRAME_BYTES = SIZE.width * SIZE.height * 4;
/** Solid colours far apart in luma: a still start, motion before video mode and in it. */
const START = '#f0f0f0';
const BEFORE_VIDEO_MODE = ['#101010', '#d0d0d0'] as const;
const IN_VIDEO_MODE = ['#404040', '#808080'] as const;

/** A grey's level, which ffmpeg's `gray` (full range) gives back within a few steps. */
const grey = (colour: string) => Number.parseInt(colour.slice(1, 3), 16);

/** The luma at the centre of each picture of an H.264 stream. */
function centreLuma(stream: Buffer): number[] {
  const raw = spawnSync(
    resolveFfmpeg().path,
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'h264', '-i', 'pipe:0'],
      ...['-vsync', '0', '-vf', 'scale=64:36', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    ],
    { input: stream, maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(raw.status, 0, raw.stderr.toString());
  const pictureBytes = 64 * 36;
  const centres: number[] = [];
  for (let at = 0; at + pictureBytes <= raw.stdout.byteLength; at += pictureBytes)
    centres.push(raw.stdout[at + 18 * 64 + 32] ?? -1);
  return centres;
}

describe('X11 capture through shared memory in video mode (real Xvfb, real lifeline-x264)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('full motion reaches the encoder through the segment, not the pipe, and the screen painted back as the capture last compared it is shown', async () => {
    const x264 = await buildX264Encoder(DEFAULT_CACHE_DIR);
    const xvfb = await startXvfb(SIZE);
    cleanups.push(() => xvfb.stop());
    await runX('xsetroot', ['-solid', START], xvfb.display);

    const writer = new X264FrameWriter(SIZE, { sharedMemory: true });
    const encoder = spawn(
      x264,
      x264Arguments({ ...SIZE, framerate: 30, keyframeIntervalFrames: 1800, covered: [] }),
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    cleanups.push(() => {
      encoder.kill('SIGKILL');
    });
    let acks = 0;
    const reader = new X264UnitReader(() => {
      acks++;
      writer.shared?.onSegmentRead?.();
    });
    const units: Buffer[] = [];
    encoder.stdout.on('data', (chunk: Buffer) => {
      for (const unit of reader.push(chunk)) units.push(Buffer.from(unit.data));
    });
    let pipeBytes = 0;
    const stdin = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        pipeBytes += chunk.byteLength;
        encoder.stdin.write(chunk, callback);
      },
    });
    const errors: string[] = [];
    const feed = startX11Capture({
      display: xvfb.display,
      area: { x: 0, y: 0, ...SIZE },
      framerate: 30,
      stdin,
      framing: writer,
      hooks: { onError: (message) => errors.push(message) },
    });
    writer.onVideoModeEnd = () => feed.requestKeyframe();
    cleanups.push(() => {
      feed.stop();
      writer.close();
    });
    await waitFor('the first picture', () => units.length > 0, 60_000);

    // Whole-screen changes, each encoded before the next, until video mode is on: the capture
    // compared the last of them, and has not seen the pixels it hands through the segment since.
    let lastCompared = START;
    for (let i = 0; !writer.shared?.wholeMotion(); i++) {
      assert.ok(i < 200, 'full motion never entered video mode');
      const pictures = units.length;
      lastCompared = BEFORE_VIDEO_MODE[i % 2] ?? START;
      await runX('xsetroot', ['-solid', lastCompared], xvfb.display);
      await waitFor('the moving picture encoded', () => units.length > pictures, 60_000, 20);
    }
    const pipeBeforeMotion = pipeBytes;
    const picturesBeforeMotion = units.length;
    for (let i = 0; acks < 3 || i < 20; i++) {
      await runX('xsetroot', ['-solid', IN_VIDEO_MODE[i % 2] ?? START], xvfb.display);
      await sleep(50);
      assert.ok(i < 600, `video mode never handed a picture through the segment (${acks} acks)`);
    }
    await runX('xsetroot', ['-solid', IN_VIDEO_MODE[1]], xvfb.display);
    await waitFor(
      'the last moving picture encoded',
      () => {
        const luma = centreLuma(Buffer.concat(units)).at(-1) ?? 0;
        return Math.abs(luma - grey(IN_VIDEO_MODE[1])) < 12;
      },
      60_000,
      1000,
    );
    const motionPictures = units.length - picturesBeforeMotion;
    assert.ok(acks >= 3, `pictures went through the segment (${acks} acks)`);
    assert.ok(
      pipeBytes - pipeBeforeMotion < (motionPictures * FRAME_BYTES) / 2,
      `the pipe carried ${pipeBytes - pipeBeforeMotion} bytes for ${motionPictures} pictures of ${FRAME_BYTES}: the pixels went through the segment`,
    );

    // Still: video mode ends, and the next change is compared with the picture the encoder has, not
    // with the last one compared (which it equals: a stale comparison would write nothing).
    await sleep(LEAVE_AFTER_MS + 1500);
    const acksWhenStill = acks;
    await runX('xsetroot', ['-solid', lastCompared], xvfb.display);
    const expected = grey(lastCompared);
    await waitFor(
      `the screen painted back to ${lastCompared}`,
      () => Math.abs((centreLuma(Buffer.concat(units)).at(-1) ?? 0) - expected) < 12,
      20_000,
      1000,
    );
    assert.equal(acks, acksWhenStill, 'a still screen goes down the pipe again');
    assert.deepEqual(errors, []);
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { type AccessUnit, nalUnits } from '../../agent/media/annexb.ts';
import { resolveFfmpeg } from '../../agent/media/ffmpeg-path.ts';

/** The test pattern both stream tests encode: 40 frames of 320×240 with a keyframe every 10. */
export const FRAMES = 40;
export const GOP_FRAMES = 10;
export const WIDTH = 320;
export const HEIGHT = 240;

const ffmpeg = resolveFfmpeg().path;

/**
 * Encodes the lavfi test pattern the way the screen encoder does (ultrafast, zerolatency, baseline, no
 * B-frames), with a short GOP, to raw H.264 (`h264`) or to FLV (`flv`).
 */
export function encodeTestPattern(format: 'h264' | 'flv', x264Params: string): Uint8Array {
  const result = spawnSync(
    ffmpeg,
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=30`, '-frames:v', String(FRAMES)],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
      ...['-pix_fmt', 'yuv420p', '-bf', '0', '-g', String(GOP_FRAMES), '-x264-params', x264Params],
      ...['-f', format, 'pipe:1'],
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(result.status, 0, result.stderr.toString());
  return new Uint8Array(result.stdout);
}

/** Decodes an Annex-B stream with ffmpeg and returns how many frames came out. */
export function decodedFrameCount(stream: Uint8Array): number {
  const result = spawnSync(
    ffmpeg,
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'h264', '-i', 'pipe:0'],
      ...['-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    ],
    { input: stream, maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(result.status, 0, result.stderr.toString());
  assert.equal(result.stdout.byteLength % (WIDTH * HEIGHT), 0);
  return result.stdout.byteLength / (WIDTH * HEIGHT);
}

/** Deterministic chunk sizes between 1 and `max` bytes (a small LCG, so failures reproduce). */
export function randomSizes(seed: number, max: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return 1 + (state % max);
  };
}

/** Feeds `stream` to `push` in chunks of `nextSize()` bytes and returns every access unit it gave back. */
export function feedInChunks(
  stream: Uint8Array,
  nextSize: () => number,
  push: (chunk: Uint8Array) => readonly AccessUnit[],
): AccessUnit[] {
  const units: AccessUnit[] = [];
  for (let at = 0; at < stream.byteLength; ) {
    const end = Math.min(stream.byteLength, at + nextSize());
    units.push(...push(stream.subarray(at, end)));
    at = end;
  }
  return units;
}

/** The access units one after the other: an Annex-B stream. */
export function concatUnits(units: readonly AccessUnit[]): Uint8Array {
  return Buffer.concat(units.map((unit) => unit.data));
}

/** The NAL unit types of one access unit, in order. */
export function nalTypesOf(unit: AccessUnit): number[] {
  return nalUnits(unit.data).map((nal) => nal.type);
}

/** Asserts that `result` holds the same access units as `expected`: the same bytes, the same keyframes. */
export function assertSameUnits(result: readonly AccessUnit[], expected: readonly AccessUnit[]): void {
  assert.deepEqual(
    result.map((unit) => Buffer.from(unit.data).toString('hex')),
    expected.map((unit) => Buffer.from(unit.data).toString('hex')),
  );
  assert.deepEqual(
    result.map((unit) => unit.keyframe),
    expected.map((unit) => unit.keyframe),
  );
}

/**
 * Registers the two decoding tests of a stream reader: ffmpeg decodes its units (`units()`, read
 * when the tests run) back into every frame, and from the third keyframe on with no unit before it.
 */
export function itDecodesBack(units: () => readonly AccessUnit[]): void {
  it('yields units that ffmpeg decodes back into all 40 frames', () => {
    assert.equal(decodedFrameCount(concatUnits(units())), FRAMES);
  });

  it('yields keyframe units that start decoding on their own, mid-stream', () => {
    assert.equal(decodedFrameCount(concatUnits(units().slice(20))), FRAMES - 20);
  });
}

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { resolveFfmpeg } from '../../agent/media/ffmpeg-path.ts';
import { X264UnitReader } from '../../agent/media/x264-stream.ts';
import { DEFAULT_CACHE_DIR } from '../../build/agent/build-executable.ts';
import { buildX264Encoder } from '../../build/agent/x264-encoder.ts';

// lifeline-x264's video mode on fixed input: frames marked "half size" (flag bit 1) are encoded at
// half each side, and the mark's coming and going are IDRs.

const x264 = await buildX264Encoder(DEFAULT_CACHE_DIR);
const WIDTH = 1920;
const HEIGHT = 1080;
const ROW_BYTES = WIDTH * 4;
const FLAG_KEYFRAME = 1;
const FLAG_HALF = 2;
/** A window lying on the shared screen, painted black by the encoder. */
const COVER = { x: 101, y: 51, width: 301, height: 201 };

/** An `LLF2` header: a band of `rows` rows from `firstRow`, with `flags`. */
function band(firstRow: number, rows: number, flags: number): Buffer {
  const header = Buffer.alloc(16);
  header.write('LLF2', 0, 'latin1');
  header.writeUInt32LE(rows * ROW_BYTES, 4);
  header.writeUInt8(flags, 8);
  header.writeUInt16LE(firstRow, 10);
  return header;
}

/** Each picture's size and whether it is a keyframe, and its luma decoded at (scaled to) full size. */
function decode(stream: Buffer): { sizes: string[]; luma: Buffer[] } {
  const ffmpeg = resolveFfmpeg().path;
  const probe = spawnSync(
    ffmpeg,
    ['-hide_banner', '-nostdin', '-f', 'h264', '-i', 'pipe:0', '-vf', 'showinfo', '-f', 'null', '-'],
    { input: stream, maxBuffer: 64 * 1024 * 1024 },
  );
  const sizes = [...probe.stderr.toString().matchAll(/ s:(\d+x\d+) .*? iskey:(\d)/g)].map(
    (m) => `${m[1]}${m[2] === '1' ? ' key' : ''}`,
  );
  const raw = spawnSync(
    ffmpeg,
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'h264', '-i', 'pipe:0'],
      // Every picture at full size: the half-size ones scaled up, as the console draws them.
      ...['-vsync', '0', '-vf', `scale=${WIDTH}:${HEIGHT}`, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    ],
    { input: stream, maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(raw.status, 0, raw.stderr.toString());
  const luma: Buffer[] = [];
  for (let at = 0; at + WIDTH * HEIGHT <= raw.stdout.byteLength; at += WIDTH * HEIGHT)
    luma.push(raw.stdout.subarray(at, at + WIDTH * HEIGHT));
  return { sizes, luma };
}

const at = (picture: Buffer | undefined, x: number, y: number) => picture?.[y * WIDTH + x] ?? -1;

describe('lifeline-x264 video mode', () => {
  it('frames marked half size are encoded at 960x540 from an IDR, covers still cover, and unmarked the next is a full-size IDR', () => {
    const white = Buffer.alloc(HEIGHT * ROW_BYTES, 0xff);
    const black = Buffer.alloc(300 * ROW_BYTES, 0x00);
    const input = Buffer.concat([
      band(0, HEIGHT, FLAG_KEYFRAME),
      white,
      band(0, HEIGHT, FLAG_HALF),
      white,
      band(600, 300, FLAG_HALF),
      black,
      // A still screen leaves video mode: no rows, no keyframe asked; the change of size makes one.
      band(0, 0, 0),
    ]);
    const result = spawnSync(
      x264,
      [
        ...['--width', String(WIDTH), '--height', String(HEIGHT)],
        ...['--cover', `${COVER.x},${COVER.y},${COVER.width},${COVER.height}`],
      ],
      { input, maxBuffer: 64 * 1024 * 1024 },
    );
    assert.equal(result.status, 0, result.stderr.toString());
    const units = new X264UnitReader().push(result.stdout);
    assert.deepEqual(
      units.map((unit) => unit.keyframe),
      [true, true, false, true],
      'entering and leaving are IDRs',
    );
    const { sizes, luma } = decode(Buffer.concat(units.map((unit) => unit.data)));
    assert.deepEqual(sizes, ['1920x1080 key', '960x540 key', '960x540', '1920x1080 key']);
    const [, halfWhite, halfBand, full] = luma;
    for (const picture of [halfWhite, halfBand, full]) {
      assert.ok(at(picture, COVER.x + 150, COVER.y + 100) < 25, 'inside the cover: black');
      assert.ok(
        at(picture, COVER.x + COVER.width - 2, COVER.y + COVER.height - 2) < 40,
        "the cover's far corner",
      );
      assert.ok(at(picture, 1000, 100) > 230, 'outside the cover: white');
    }
    assert.ok(at(halfBand, 1000, 750) < 25, 'the band at half size is black');
    assert.ok(at(halfBand, 1000, 560) > 230, 'above the band still white');
    assert.ok(at(full, 1000, 750) < 25, 'the full-size keyframe has the band');
    assert.ok(at(full, 1000, 960) > 230, 'and white below it');
  });
});

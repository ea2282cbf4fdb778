import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { PictureBudget } from '../../agent/core/ports.ts';
import { NalType, nalUnits } from '../../agent/media/annexb.ts';
import { changedRows } from '../../agent/media/changed-rows.ts';
import { resolveFfmpeg } from '../../agent/media/ffmpeg-path.ts';
import { X264FrameWriter, X264UnitReader, x264Arguments } from '../../agent/media/x264-stream.ts';
import { DEFAULT_CACHE_DIR } from '../../build/agent/build-executable.ts';
import { buildX264Encoder } from '../../build/agent/x264-encoder.ts';

// lifeline-x264 on fixed input: what it makes depends only on the frames, so these are facts of the
// encoder, not timings.

const x264 = await buildX264Encoder(DEFAULT_CACHE_DIR);
const WIDTH = 1280;
const HEIGHT = 720;
const ROW_BYTES = WIDTH * 4;
/** A screen above 1280x720, where lifeline-x264 opens with two sliced threads. */
const FULL_HD = { width: 1920, height: 1080 };

/** One frame (whole) or band of rows (`firstRow` given) for the encoder. */
interface Input {
  data: Uint8Array;
  firstRow?: number;
  keyframe?: boolean;
  /** A cap from this frame on (null: none); needs the agent's arguments (`x264Arguments`). */
  budget?: PictureBudget | null;
}

/**
 * Runs lifeline-x264 over `inputs` and returns the access units it wrote, one per input; with its
 * bare size, or with the arguments the agent starts it with; 1280x720 unless `size` is given.
 */
function encode(
  inputs: readonly Input[],
  args: 'bare' | 'agent' = 'bare',
  size = { width: WIDTH, height: HEIGHT },
): Uint8Array[] {
  const writer = new X264FrameWriter();
  const stdin = Buffer.concat(
    inputs.flatMap((input) => {
      if (input.budget !== undefined) writer.setBudget(input.budget ?? undefined);
      return [
        input.firstRow === undefined
          ? writer.frameHeader(input.data.byteLength, input.keyframe ?? false)
          : writer.bandHeader(input.firstRow, input.data.byteLength, input.keyframe ?? false),
        input.data,
      ];
    }),
  );
  const argv =
    args === 'bare'
      ? ['--width', String(size.width), '--height', String(size.height)]
      : x264Arguments({ ...size, framerate: 30, keyframeIntervalFrames: 1800, covered: [] });
  const result = spawnSync(x264, argv, {
    input: stdin,
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(result.status, 0, result.stderr.toString());
  const units = new X264UnitReader().push(result.stdout).map((unit) => unit.data);
  assert.equal(units.length, inputs.length, 'one access unit per frame');
  return units;
}

/** Decodes the units to full-size grey (luma) pictures, 1280x720 unless `size` is given. */
function decodeLuma(units: readonly Uint8Array[], size = { width: WIDTH, height: HEIGHT }): Buffer[] {
  const pictureBytes = size.width * size.height;
  const result = spawnSync(
    resolveFfmpeg().path,
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'h264', '-i', 'pipe:0'],
      ...['-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    ],
    { input: Buffer.concat(units), maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(result.status, 0, result.stderr.toString());
  const frames: Buffer[] = [];
  for (let at = 0; at + pictureBytes <= result.stdout.byteLength; at += pictureBytes) {
    frames.push(result.stdout.subarray(at, at + pictureBytes));
  }
  return frames;
}

function solid(rows: number, value: number): Buffer {
  return Buffer.alloc(rows * ROW_BYTES, value);
}

/** The mean luma of one row of a decoded picture `width` pixels wide. */
function rowMean(picture: Buffer | undefined, row: number, width = WIDTH): number {
  assert.ok(picture);
  let sum = 0;
  for (let x = 0; x < width; x++) sum += picture[row * width + x] ?? 0;
  return sum / width;
}

/** The slices (IDR or not) of each access unit. */
function slicesOf(units: readonly Uint8Array[]): number[] {
  return units.map(
    (unit) => nalUnits(unit).filter((nal) => nal.type === NalType.idr || nal.type === NalType.slice).length,
  );
}

/**
 * A terminal's worth of made-up text: black glyphs (5×9 of a 6×13 cell, a fixed pseudo-random
 * pattern per line number) on white, 100 columns by 24 lines from `firstLine` on, at (0, 120) of a
 * blue desktop. Line `n` looks the same wherever it is drawn, as a scrolled line does.
 */
function terminal(firstLine: number): Buffer {
  const frame = Buffer.alloc(WIDTH * HEIGHT * 4);
  for (let i = 0; i < WIDTH * HEIGHT; i++) frame.writeUInt32LE(0xff2060c0, i * 4);
  const [left, top, columns, lines, cellWidth, cellHeight] = [0, 120, 100, 24, 6, 13];
  for (let line = 0; line < lines; line++) {
    let seed = (firstLine + line + 1) * 2654435761;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 16;
    };
    for (let y = 0; y < cellHeight; y++) {
      for (let x = 0; x < columns * cellWidth; x++) {
        const at = ((top + line * cellHeight + y) * WIDTH + left + x) * 4;
        frame.writeUInt32LE(0xffffffff, at);
      }
    }
    for (let column = 0; column < columns; column++) {
      for (let y = 2; y < 11; y++) {
        for (let x = 0; x < 5; x++) {
          if (random() % 3 !== 0) continue;
          const at = ((top + line * cellHeight + y) * WIDTH + left + column * cellWidth + x) * 4;
          frame.writeUInt32LE(0xff000000, at);
        }
      }
    }
  }
  return frame;
}

/**
 * A picture of 8×8 blocks of pseudo-random colours, a new one for each `seed`: every picture after
 * another is a scene change all over, the most a picture can change.
 */
function blocks(seed: number): Buffer {
  const frame = Buffer.alloc(WIDTH * HEIGHT * 4);
  let state = seed * 0x9e3779b9 + 1;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  for (let by = 0; by < HEIGHT; by += 8) {
    for (let bx = 0; bx < WIDTH; bx += 8) {
      const colour = (random() | 0xff000000) >>> 0;
      for (let y = by; y < by + 8; y++) {
        for (let x = bx; x < bx + 8; x++) frame.writeUInt32LE(colour, (y * WIDTH + x) * 4);
      }
    }
  }
  return frame;
}

describe('lifeline-x264 on fixed frames', () => {
  it('a band of rows replaces only those rows of the picture, and an empty band re-encodes it as it was', () => {
    const units = encode([
      { data: solid(HEIGHT, 0xff), keyframe: true },
      // Rows 10 to 19 black; the rest of the picture stays white although it is not sent again.
      { data: solid(10, 0x00), firstRow: 10 },
      { data: new Uint8Array(0), firstRow: 0, keyframe: true },
    ]);
    const [white, banded, again] = decodeLuma(units);
    assert.ok(rowMean(white, 15) > 230, 'the first picture is white');
    for (const row of [0, 5, 25, 400, HEIGHT - 1])
      assert.ok(rowMean(banded, row) > 230, `row ${row}, outside the band, is still white`);
    for (const row of [11, 15, 18]) assert.ok(rowMean(banded, row) < 25, `row ${row}, in the band, is black`);
    assert.ok(rowMean(again, 15) < 25 && rowMean(again, 400) > 230, 'the keyframe repeats the picture');
  });

  it('a scroll by one line of text is coded as motion: a fraction of the bytes of a screen of new text', () => {
    const [, scrolled] = encode([{ data: terminal(0), keyframe: true }, { data: terminal(1) }]);
    const [, replaced] = encode([{ data: terminal(0), keyframe: true }, { data: terminal(1000) }]);
    assert.ok(scrolled && replaced);
    // Found as motion, a one-line scroll costs the new bottom line and little else: about 1/24 of
    // the text. Coded as new pixels it costs about as much as the whole screen of new text.
    assert.ok(
      scrolled.byteLength * 5 < replaced.byteLength,
      `scrolled ${scrolled.byteLength} bytes, new text ${replaced.byteLength} bytes`,
    );
  });

  it('each picture is coded as one slice, keyframe and band alike', () => {
    const units = encode([
      { data: terminal(0), keyframe: true },
      { data: terminal(1).subarray(120 * ROW_BYTES, 200 * ROW_BYTES), firstRow: 120 },
    ]);
    // zerolatency's sliced threads would cut each picture into one slice per thread.
    assert.deepEqual(slicesOf(units), [1, 1]);
  });

  it('above 1280x720 the encoder opens with two sliced threads: two slices a picture, decoded to the right pixels', () => {
    const rowBytes = FULL_HD.width * 4;
    // A white screen, then rows 600 to 899 black: a band tall enough to be converted on two threads
    // (rows 600-749 and 750-899), and a picture cut into two slices at row 544.
    const units = encode(
      [
        { data: Buffer.alloc(FULL_HD.height * rowBytes, 0xff), keyframe: true },
        { data: Buffer.alloc(300 * rowBytes, 0x00), firstRow: 600 },
      ],
      'agent',
      FULL_HD,
    );
    assert.deepEqual(slicesOf(units), [2, 2], 'one slice per thread, keyframe and band alike');
    const [white, banded] = decodeLuma(units, FULL_HD);
    for (const row of [0, 300, 539, 540, 1079]) {
      assert.ok(rowMean(white, row, FULL_HD.width) > 230, `row ${row} of the first picture is white`);
    }
    for (const row of [0, 540, 599, 900, 1079]) {
      assert.ok(rowMean(banded, row, FULL_HD.width) > 230, `row ${row}, outside the band, is still white`);
    }
    for (const row of [600, 700, 899]) {
      assert.ok(rowMean(banded, row, FULL_HD.width) < 25, `row ${row}, in the band, is black`);
    }
  });

  it('under a budget no picture is larger than its cap, even when every picture is a new scene, and lifting it restores the quality', () => {
    const pictures = Array.from({ length: 8 }, (_, i) => blocks(i + 1));
    const budget: PictureBudget = { averageBytes: 4_000, largestBytes: 12_000 };
    const uncapped = encode(
      pictures.map((data, i) => ({ data, keyframe: i === 0 })),
      'agent',
    );
    const capped = encode(
      pictures.map((data, i) => ({ data, keyframe: i === 0, ...(i === 0 ? { budget } : {}) })),
      'agent',
    );
    const sizes = (units: Uint8Array[]) => units.map((unit) => unit.byteLength);
    assert.ok(
      sizes(uncapped).every((bytes) => bytes > budget.largestBytes),
      `uncapped, every picture is over the cap: ${sizes(uncapped).join(', ')}`,
    );
    assert.ok(
      sizes(capped).every((bytes) => bytes <= budget.largestBytes),
      `capped, none is over ${budget.largestBytes} bytes: ${sizes(capped).join(', ')}`,
    );
    // x264 lets the quality climb back a few steps a picture (its qpstep): a few pictures on, they
    // are as large as they need again.
    const after = Array.from({ length: 8 }, (_, i) => blocks(pictures.length + i + 1));
    const lifted = encode(
      [...pictures, ...after].map((data, i) => ({
        data,
        keyframe: i === 0,
        ...(i === 0 ? { budget } : i === pictures.length ? { budget: null } : {}),
      })),
      'agent',
    );
    assert.ok(
      sizes(lifted.slice(pictures.length)).some((bytes) => bytes > budget.largestBytes),
      `lifted, the pictures grow past the cap again: ${sizes(lifted).join(', ')}`,
    );
  });

  it('changedRows names the first and the last row that differ, and nothing when none does', () => {
    const before = solid(HEIGHT, 0x80);
    const after = Buffer.from(before);
    after[40 * ROW_BYTES + 7] = 0;
    after[52 * ROW_BYTES + ROW_BYTES - 1] = 0;
    assert.deepEqual(changedRows(before, after, ROW_BYTES), { first: 40, end: 53 });
    assert.equal(changedRows(before, Buffer.from(before), ROW_BYTES), undefined);
  });
});

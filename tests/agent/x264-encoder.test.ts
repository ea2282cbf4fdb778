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
  /** The quality (CRF) from this frame on. */
  crf?: number;
}

/**
 * Runs lifeline-x264 over `inputs` and returns the access units it wrote, one per input; with its
 * bare size, with the arguments the agent starts it with (constant QP without a budget), or with those
 * and capped CRF throughout (`agent-crf`, what a budget reopens it under); 1280x720 unless `size` is given.
 */
function encode(
  inputs: readonly Input[],
  args: 'bare' | 'agent' | 'agent-crf' = 'bare',
  size = { width: WIDTH, height: HEIGHT },
): Uint8Array[] {
  const writer = new X264FrameWriter();
  const stdin = Buffer.concat(
    inputs.flatMap((input) => {
      if (input.budget !== undefined) writer.setBudget(input.budget ?? undefined);
      if (input.crf !== undefined) writer.setQuality(input.crf);
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
      : [
          ...x264Arguments({ ...size, framerate: 30, keyframeIntervalFrames: 1800, covered: [] }),
          ...(args === 'agent-crf' ? ['--constant-qp', 'off'] : []),
        ];
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

/** Reads H.264's bit fields (exp-Golomb included) from a NAL's payload, emulation bytes taken out. */
class BitReader {
  private readonly bytes: number[] = [];
  private at = 0;
  constructor(nal: Uint8Array) {
    for (let i = 0; i < nal.byteLength; i++) {
      const byte = nal[i] ?? 0;
      if (byte === 3 && nal[i - 1] === 0 && nal[i - 2] === 0 && this.bytes.at(-1) === 0) continue;
      this.bytes.push(byte);
    }
  }
  bits(n: number): number {
    let value = 0;
    for (let i = 0; i < n; i++, this.at++)
      value = value * 2 + (((this.bytes[this.at >> 3] ?? 0) >> (7 - (this.at & 7))) & 1);
    return value;
  }
  ue(): number {
    let zeros = 0;
    while (this.bits(1) === 0) zeros++;
    return 2 ** zeros - 1 + this.bits(zeros);
  }
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -k / 2;
  }
}

/**
 * The QP of each picture's first slice (26 + the PPS's pic_init_qp_minus26 + slice_qp_delta), as
 * lifeline-x264 writes them: constrained baseline, picture order count type 2, no B-frames.
 */
function sliceQps(units: readonly Uint8Array[]): number[] {
  let log2MaxFrameNum = 4;
  let initQp = 26;
  return units.map((unit) => {
    let qp: number | undefined;
    for (const nal of nalUnits(unit)) {
      const r = new BitReader(unit.subarray(nal.start + 1, nal.end));
      if (nal.type === NalType.sps) {
        r.bits(24); // profile, constraint flags, level
        r.ue(); // seq_parameter_set_id
        log2MaxFrameNum = r.ue() + 4;
        assert.equal(r.ue(), 2, 'picture order count type 2');
      } else if (nal.type === NalType.pps) {
        r.ue(); // pic_parameter_set_id
        r.ue(); // seq_parameter_set_id
        r.bits(2); // entropy_coding_mode_flag, bottom_field_pic_order_in_frame_present_flag
        assert.equal(r.ue(), 0, 'one slice group');
        r.ue(); // num_ref_idx_l0_default_active_minus1
        r.ue(); // num_ref_idx_l1_default_active_minus1
        r.bits(3); // weighted_pred_flag, weighted_bipred_idc
        initQp = 26 + r.se();
      } else if ((nal.type === NalType.idr || nal.type === NalType.slice) && qp === undefined) {
        const idr = nal.type === NalType.idr;
        r.ue(); // first_mb_in_slice
        const sliceType = r.ue() % 5;
        r.ue(); // pic_parameter_set_id
        r.bits(log2MaxFrameNum); // frame_num
        if (idr) r.ue(); // idr_pic_id
        if (sliceType === 0) {
          if (r.bits(1) === 1) r.ue(); // num_ref_idx_active_override_flag
          assert.equal(r.bits(1), 0, 'no reference list modification');
        }
        r.bits(idr ? 2 : 1); // dec_ref_pic_marking
        qp = initQp + r.se();
      }
    }
    assert.ok(qp !== undefined, 'every unit has a slice');
    return qp;
  });
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

/** A terminal, then four characters typed one by one on its line 3 (whole frames). */
function typing(): Buffer[] {
  const frames = [terminal(0)];
  for (let i = 0; i < 4; i++) {
    const typed = Buffer.from(frames.at(-1) ?? terminal(0));
    const [top, left] = [120 + 3 * 13 + 2, (40 + i) * 6];
    for (let y = 0; y < 9; y++)
      for (let x = 0; x < 5; x++)
        if ((x + y + i) % 3 === 0) typed.writeUInt32LE(0xff000000, ((top + y) * WIDTH + left + x) * 4);
    frames.push(typed);
  }
  return frames;
}

/**
 * `frames` for the encoder as the agent sends them: the first as a keyframe, the typed ones (1 to 4)
 * as their changed rows, the rest whole; `budget` from the second on.
 */
function typedInputs(frames: readonly Buffer[], budget: PictureBudget): Input[] {
  return frames.map((data, i) => {
    const before = frames[i - 1];
    const band = before && i <= 4 ? changedRows(before, data, ROW_BYTES) : undefined;
    return {
      ...(band
        ? { data: data.subarray(band.first * ROW_BYTES, band.end * ROW_BYTES), firstRow: band.first }
        : { data }),
      keyframe: i === 0,
      ...(i === 1 ? { budget } : {}),
    };
  });
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

  it('under capped CRF (what a budget reopens the encoder under) no picture is larger than its cap, even when every picture is a new scene, and lifting it restores the quality', () => {
    const pictures = Array.from({ length: 8 }, (_, i) => blocks(i + 1));
    const budget: PictureBudget = { averageBytes: 4_000, largestBytes: 12_000 };
    const uncapped = encode(
      pictures.map((data, i) => ({ data, keyframe: i === 0 })),
      'agent-crf',
    );
    const capped = encode(
      pictures.map((data, i) => ({ data, keyframe: i === 0, ...(i === 0 ? { budget } : {}) })),
      'agent-crf',
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
      'agent-crf',
    );
    assert.ok(
      sizes(lifted.slice(pictures.length)).some((bytes) => bytes > budget.largestBytes),
      `lifted, the pictures grow past the cap again: ${sizes(lifted).join(', ')}`,
    );
  });

  it("the agent's encoder, without a budget, codes every picture at one constant QP, the CRF + 2, and a quality asked for takes effect at once", () => {
    const pictures = Array.from({ length: 6 }, (_, i) => blocks(i + 1));
    const units = encode(
      pictures.map((data, i) => ({ data, keyframe: i === 0, ...(i === 4 ? { crf: 33 } : {}) })),
      'agent',
    );
    // Rate control (CRF) would move the QP from one new scene to the next; constant QP does not.
    // The IDR is coded 3 below (x264's I-picture offset); CRF 33 from the fifth picture: QP 35.
    assert.deepEqual(sliceQps(units), [22, 25, 25, 25, 35, 35]);
  });

  it("the agent's encoder: a budget reopens it under rate control, starting with an IDR, and lifting it goes back to constant QP at the next keyframe asked for", () => {
    const pictures = Array.from({ length: 12 }, (_, i) => blocks(i + 1));
    const budget: PictureBudget = { averageBytes: 4_000, largestBytes: 12_000 };
    const units = encode(
      pictures.map((data, i) => ({
        data,
        keyframe: i === 0 || i === 9,
        ...(i === 3 ? { budget } : i === 6 ? { budget: null } : {}),
      })),
      'agent',
    );
    const idr = units.map((unit) => nalUnits(unit).some((nal) => nal.type === NalType.idr));
    assert.deepEqual(
      idr.map((k, i) => (k ? i : -1)).filter((i) => i >= 0),
      [0, 3, 9],
      'IDRs: the first, the first under the budget, the one asked for after it',
    );
    const qps = sliceQps(units);
    assert.deepEqual(qps.slice(0, 3), [22, 25, 25], 'constant QP before the budget');
    assert.ok(
      units.slice(3, 6).every((unit) => unit.byteLength <= budget.largestBytes),
      `under the budget no picture is over the cap: ${units.map((u) => u.byteLength).join(', ')}`,
    );
    assert.deepEqual(qps.slice(9), [22, 25, 25], 'constant QP again from the keyframe after the budget');
  });

  it("the agent's encoder: a typed line within a budget's rate stays at constant QP, without an IDR, even a few times over its largest picture", () => {
    // As the budget a loaded console set while scrolling (625 B a picture, none larger): reopening for
    // it would cost an IDR of the whole screen.
    const budget: PictureBudget = { averageBytes: 6_000, largestBytes: 40 };
    const units = encode(typedInputs(typing(), budget), 'agent');
    const sizes = units.map((unit) => unit.byteLength);
    assert.ok(
      sizes.slice(1).some((bytes) => bytes > budget.largestBytes),
      `a typed picture over the cap: ${sizes.join(', ')}`,
    );
    assert.ok(
      sizes.slice(1).every((bytes) => bytes <= 8 * budget.largestBytes),
      `and none 8 times over it: ${sizes.join(', ')}`,
    );
    const idr = units.map((unit) => nalUnits(unit).some((nal) => nal.type === NalType.idr));
    assert.deepEqual(idr, [true, false, false, false, false]);
    assert.deepEqual(sliceQps(units), [22, 28, 28, 28, 28]);
  });

  it("the agent's encoder: a budget the pictures keep to leaves it at constant QP, and the first picture that would break it is coded again as an IDR within the cap", () => {
    const budget: PictureBudget = { averageBytes: 6_000, largestBytes: 12_000 };
    const frames = [...typing(), blocks(1), blocks(2)];
    const units = encode(typedInputs(frames, budget), 'agent');
    const sizes = units.map((unit) => unit.byteLength).join(', ');
    const idr = units.map((unit) => nalUnits(unit).some((nal) => nal.type === NalType.idr));
    assert.deepEqual(
      idr.map((k, i) => (k ? i : -1)).filter((i) => i >= 0),
      [0, 5],
      `IDRs: the first, and the first picture over the budget (bytes: ${sizes})`,
    );
    // The typed line stays at constant QP (the CRF + 2, and 3 coarser for a line's band).
    assert.deepEqual(sliceQps(units).slice(0, 5), [22, 28, 28, 28, 28]);
    assert.ok(
      units.slice(5).every((unit) => unit.byteLength <= budget.largestBytes),
      `the new scenes within the cap: ${sizes}`,
    );
    assert.equal(decodeLuma(units).length, frames.length, 'every picture decodes');
  });

  it('a typed character costs under 100 bytes and its glyph stays sharp, at constant QP coded 3 QP coarser with trellis', () => {
    const before = terminal(0);
    const after = Buffer.from(before);
    // A 5×9 glyph drawn in the white cell of line 3, column 40 (as terminal() lays lines out).
    const [top, left] = [120 + 3 * 13 + 2, 40 * 6];
    for (let y = 0; y < 9; y++)
      for (let x = 0; x < 5; x++)
        if ((x + y) % 3 === 0) after.writeUInt32LE(0xff000000, ((top + y) * WIDTH + left + x) * 4);
    const band = changedRows(before, after, ROW_BYTES);
    assert.ok(band);
    for (const args of ['agent-crf', 'agent'] as const) {
      const units = encode(
        [
          { data: before, keyframe: true },
          { data: after.subarray(band.first * ROW_BYTES, band.end * ROW_BYTES), firstRow: band.first },
        ],
        args,
      );
      const typed = units[1];
      assert.ok(typed);
      // At constant QP a band of a line's rows is coded 3 QP coarser (and with trellis) than a whole picture.
      if (args === 'agent') assert.deepEqual(sliceQps(units), [22, 28]);
      assert.ok(typed.byteLength <= 100, `${args}: a typed character in ${typed.byteLength} bytes`);
      const [, picture] = decodeLuma(units);
      assert.ok(picture);
      let worst = 0;
      for (let y = band.first; y < band.end; y++) {
        for (let x = left - 8; x < left + 13; x++) {
          const at = (y * WIDTH + x) * 4;
          // BT.601 limited range, as the encoder converts.
          const luma =
            ((66 * (after[at + 2] ?? 0) + 129 * (after[at + 1] ?? 0) + 25 * (after[at] ?? 0) + 128) >> 8) +
            16;
          worst = Math.max(worst, Math.abs(luma - (picture[y * WIDTH + x] ?? 0)));
        }
      }
      assert.ok(worst <= 40, `${args}: the glyph's largest luma error: ${worst} of 219`);
    }
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

/**
 * How faithfully an encoding saved by `encode.ts --save` shows its recording: decodes it with ffmpeg
 * and compares each picture with the recorded frame it encodes, over the rows that changed since the
 * frame before (where text was just drawn, so where blurred glyphs would show), and over the whole of
 * the last picture (what the viewer is left looking at). Prints PSNR in dB over R, G and B and the
 * largest error of one channel of one pixel (0–255).
 *
 *     npx tsx bench/encoder/fidelity.ts --recording /tmp/lifeline-frames/typing.bgrx FILE.h264…
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { changedRows } from '../../agent/media/changed-rows.ts';
import { FRAME_SIZE } from './record.ts';

/** Squared error and sample count over some rows, and the largest error of one sample. */
interface Error2 {
  sum: number;
  samples: number;
  max: number;
}

/** Compares R, G and B (not X) of rows `first` to `end` of two BGRX frames. */
function compareRows(a: Uint8Array, b: Uint8Array, rowBytes: number, first: number, end: number): Error2 {
  let sum = 0;
  let max = 0;
  let samples = 0;
  for (let i = first * rowBytes; i < end * rowBytes; i += 4) {
    for (let c = 0; c < 3; c++) {
      const d = (a[i + c] ?? 0) - (b[i + c] ?? 0);
      sum += d * d;
      if (d > max) max = d;
      else if (-d > max) max = -d;
      samples++;
    }
  }
  return { sum, samples, max };
}

const psnr = (e: Error2) => (e.sum === 0 ? Infinity : 10 * Math.log10((255 * 255 * e.samples) / e.sum));

/** Decodes `h264` to BGRX pictures, one Buffer each. */
async function* decode(h264: string, frameBytes: number): AsyncGenerator<Buffer> {
  const ffmpeg = spawn(
    'ffmpeg',
    ['-v', 'error', '-f', 'h264', '-i', h264, '-f', 'rawvideo', '-pix_fmt', 'bgr0', '-'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let chunks: Buffer[] = [];
  let pending = 0;
  for await (const chunk of ffmpeg.stdout as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    pending += chunk.byteLength;
    while (pending >= frameBytes) {
      const joined = Buffer.concat(chunks);
      yield joined.subarray(0, frameBytes);
      chunks = [joined.subarray(frameBytes)];
      pending -= frameBytes;
    }
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { recording: { type: 'string', default: '/tmp/lifeline-frames/typing.bgrx' } },
    allowPositionals: true,
  });
  const { width, height } = FRAME_SIZE;
  const rowBytes = width * 4;
  const frameBytes = rowBytes * height;
  console.log(
    '| encoding | pictures | changed rows: PSNR dB | changed rows: max error | last picture: PSNR dB | last: max error |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const h264 of positionals) {
    const fd = openSync(values.recording, 'r');
    const band: Error2 = { sum: 0, samples: 0, max: 0 };
    let previous: Buffer | undefined;
    let lastPicture: Buffer | undefined;
    let index = 0;
    try {
      for await (const picture of decode(h264, frameBytes)) {
        const frame = Buffer.alloc(frameBytes);
        if (readSync(fd, frame, 0, frameBytes, index * frameBytes) !== frameBytes) break;
        index++;
        const rows = previous ? changedRows(previous, frame, rowBytes) : undefined;
        if (rows) {
          const e = compareRows(frame, picture, rowBytes, rows.first, rows.end);
          band.sum += e.sum;
          band.samples += e.samples;
          band.max = Math.max(band.max, e.max);
        }
        lastPicture = Buffer.from(picture);
        previous = frame;
      }
    } finally {
      closeSync(fd);
    }
    const empty = { sum: 0, samples: 0, max: 0 };
    const last = previous && lastPicture ? compareRows(previous, lastPicture, rowBytes, 0, height) : empty;
    console.log(
      `| ${basename(h264, '.h264')} | ${index} | ${psnr(band).toFixed(2)} | ${band.max} | ${psnr(last).toFixed(2)} | ${last.max} |`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

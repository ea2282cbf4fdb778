import { MAX_CURSOR_SIDE } from '../../protocol/index.ts';
import type { CursorShape, PointerPosition } from './platform.ts';

/**
 * What `lifeline-desktop.exe capture` writes (agent/platform/windows/capture.c): messages with a
 * 24-byte header of six little-endian 32-bit words, the first naming the message:
 * - `"LLCF" width height firstRow rowCount flags`, then `rowCount` rows of `width` BGRX pixels. Flag
 *   bit 0 marks the whole picture (the first, and each answer to `keyframe`); otherwise the rows
 *   replace those of the last picture.
 * - `"LLCS" serial width height hotX hotY`, then `width * height` straight RGBA pixels: the cursor's
 *   image (with `capture … cursor` only).
 * - `"LLCP" x y 0 0 0`: the pointer's position in the captured rectangle, x and y signed.
 */

/** A picture's header's first word: the bytes "LLCF". */
export const CAPTURE_MAGIC = 0x46434c4c;
/** A cursor image's: "LLCS". */
export const CURSOR_SHAPE_MAGIC = 0x53434c4c;
/** A pointer position's: "LLCP". */
export const CURSOR_POSITION_MAGIC = 0x50434c4c;
export const CAPTURE_HEADER_BYTES = 24;
/** Flag bit 0: the whole picture, not a band of changed rows. */
export const CAPTURE_WHOLE = 1;

/** Rows `firstRow`… of the picture, `rows` holding them whole. */
export interface CaptureBand {
  kind: 'band';
  firstRow: number;
  rowCount: number;
  /** The whole picture: written first and on request (`keyframe`). */
  whole: boolean;
  /** `rowCount` rows of BGRX pixels, `width * 4` bytes each. */
  rows: Buffer;
}

/** One message of the helper. */
export type CaptureMessage =
  | CaptureBand
  | { kind: 'cursor-shape'; shape: CursorShape }
  | { kind: 'pointer'; position: PointerPosition };

/** A stream that does not follow the format: the capture cannot go on. */
export class CaptureStreamError extends Error {
  override readonly name = 'CaptureStreamError';
}

/**
 * Cuts the helper's output into messages for a picture of `size`, checking each header: an unknown
 * first word, a different size, rows outside the picture, an unknown flag or a cursor image out of
 * bounds throw `CaptureStreamError` (the stream is out of step and nothing after it can be trusted).
 *
 * @example
 * const reader = new CaptureStreamReader({ width: 1280, height: 720 });
 * helper.stdout.on('data', (chunk) => { for (const message of reader.push(chunk)) handle(message); });
 */
type HeaderWords = [number, number, number, number, number, number];

export class CaptureStreamReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly rowBytes: number;

  constructor(private readonly size: { width: number; height: number }) {
    this.rowBytes = size.width * 4;
  }

  /** The messages completed by `chunk`, in order; a partial one waits for the next chunk. */
  push(chunk: Buffer): CaptureMessage[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.byteLength;
    const messages: CaptureMessage[] = [];
    for (;;) {
      if (this.pendingBytes < CAPTURE_HEADER_BYTES) break;
      const header = this.peek(CAPTURE_HEADER_BYTES);
      const words = [0, 4, 8, 12, 16, 20].map((offset) => header.readUInt32LE(offset)) as HeaderWords;
      const [magic] = words;
      if (magic === CURSOR_POSITION_MAGIC) {
        this.take(CAPTURE_HEADER_BYTES);
        messages.push({ kind: 'pointer', position: { x: header.readInt32LE(4), y: header.readInt32LE(8) } });
        continue;
      }
      if (magic === CURSOR_SHAPE_MAGIC) {
        const [, serial, width, height, hotX, hotY] = words;
        if (
          width < 1 ||
          height < 1 ||
          width > MAX_CURSOR_SIDE ||
          height > MAX_CURSOR_SIDE ||
          hotX > width ||
          hotY > height
        )
          throw new CaptureStreamError(
            `the capture helper sent a ${width}x${height} cursor with its hotspot at ${hotX},${hotY}`,
          );
        const total = CAPTURE_HEADER_BYTES + width * height * 4;
        if (this.pendingBytes < total) break;
        const rgba = new Uint8Array(this.take(total).subarray(CAPTURE_HEADER_BYTES));
        messages.push({ kind: 'cursor-shape', shape: { serial, width, height, hotX, hotY, rgba } });
        continue;
      }
      const band = this.band(words);
      const total = CAPTURE_HEADER_BYTES + band.rowCount * this.rowBytes;
      if (this.pendingBytes < total) break;
      const message = this.take(total);
      messages.push({ ...band, rows: message.subarray(CAPTURE_HEADER_BYTES) });
    }
    return messages;
  }

  private band([magic, width, height, firstRow, rowCount, flags]: HeaderWords): Omit<CaptureBand, 'rows'> {
    if (magic !== CAPTURE_MAGIC)
      throw new CaptureStreamError(`the capture helper wrote no frame header (0x${magic.toString(16)})`);
    if (width !== this.size.width || height !== this.size.height)
      throw new CaptureStreamError(
        `the capture helper sent ${width}x${height} frames for a ${this.size.width}x${this.size.height} capture`,
      );
    const whole = (flags & CAPTURE_WHOLE) !== 0;
    if ((flags & ~CAPTURE_WHOLE) !== 0)
      throw new CaptureStreamError(`unknown capture flags 0x${flags.toString(16)}`);
    if (rowCount === 0 || firstRow + rowCount > height || (whole && (firstRow !== 0 || rowCount !== height)))
      throw new CaptureStreamError(`the capture helper sent rows ${firstRow}+${rowCount} of ${height}`);
    return { kind: 'band', firstRow, rowCount, whole };
  }

  /** The first `bytes` bytes pending, without taking them. */
  private peek(bytes: number): Buffer {
    if ((this.pending[0]?.byteLength ?? 0) < bytes) this.pending = [Buffer.concat(this.pending)];
    return this.pending[0]!.subarray(0, bytes);
  }

  private take(bytes: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = all.byteLength > bytes ? [all.subarray(bytes)] : [];
    this.pendingBytes -= bytes;
    return all.subarray(0, bytes);
  }
}

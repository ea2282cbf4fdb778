/**
 * What `lifeline-desktop.exe capture` writes (agent/platform/windows/capture.c): a 24-byte header of
 * six little-endian 32-bit words, `"LLCF" width height firstRow rowCount flags`, then `rowCount`
 * rows of `width` BGRX pixels. Flag bit 0 marks the whole picture (the first, and each answer to
 * `keyframe`); otherwise the rows replace those of the last picture.
 */

/** The header's first word: the bytes "LLCF". */
export const CAPTURE_MAGIC = 0x46434c4c;
export const CAPTURE_HEADER_BYTES = 24;
/** Flag bit 0: the whole picture, not a band of changed rows. */
export const CAPTURE_WHOLE = 1;

/** One message of the helper: rows `firstRow`… of the picture, `rows` holding them whole. */
export interface CaptureBand {
  firstRow: number;
  rowCount: number;
  /** The whole picture: written first and on request (`keyframe`). */
  whole: boolean;
  /** `rowCount` rows of BGRX pixels, `width * 4` bytes each. */
  rows: Buffer;
}

/** A stream that does not follow the format: the capture cannot go on. */
export class CaptureStreamError extends Error {
  override readonly name = 'CaptureStreamError';
}

/**
 * Cuts the helper's output into bands for a picture of `size`, checking each header: a bad magic, a
 * different size, rows outside the picture or an unknown flag throw `CaptureStreamError` (the
 * stream is out of step and nothing after it can be trusted).
 *
 * @example
 * const reader = new CaptureStreamReader({ width: 1280, height: 720 });
 * helper.stdout.on('data', (chunk) => { for (const band of reader.push(chunk)) apply(band); });
 */
export class CaptureStreamReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly rowBytes: number;

  constructor(private readonly size: { width: number; height: number }) {
    this.rowBytes = size.width * 4;
  }

  /** The bands completed by `chunk`, in order; a partial one waits for the next chunk. */
  push(chunk: Buffer): CaptureBand[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.byteLength;
    const bands: CaptureBand[] = [];
    for (;;) {
      if (this.pendingBytes < CAPTURE_HEADER_BYTES) break;
      const header = this.peek(CAPTURE_HEADER_BYTES);
      const band = this.header(header);
      const total = CAPTURE_HEADER_BYTES + band.rowCount * this.rowBytes;
      if (this.pendingBytes < total) break;
      const message = this.take(total);
      bands.push({ ...band, rows: message.subarray(CAPTURE_HEADER_BYTES) });
    }
    return bands;
  }

  private header(bytes: Buffer): Omit<CaptureBand, 'rows'> {
    const [magic, width, height, firstRow, rowCount, flags] = [0, 4, 8, 12, 16, 20].map((offset) =>
      bytes.readUInt32LE(offset),
    ) as [number, number, number, number, number, number];
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
    return { firstRow, rowCount, whole };
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

import { MAX_VIDEO_BYTES } from '../../protocol/frames.ts';

/** H.264 NAL unit types the splitter cares about (ITU-T H.264 table 7-1). */
export const NalType = {
  slice: 1,
  idr: 5,
  sei: 6,
  sps: 7,
  pps: 8,
  aud: 9,
} as const;

/** One coded picture with everything needed to decode it, Annex-B encoded (start codes kept). */
export interface AccessUnit {
  data: Uint8Array;
  /** The unit holds an IDR slice, and its SPS and PPS, so decoding can start here. */
  keyframe: boolean;
}

/** Enough for a 1080p keyframe from x264 ultrafast without growing, in bytes. */
const INITIAL_CAPACITY_BYTES = 256 * 1024;

interface NalStart {
  /** Offset of the start code in the buffer. */
  offset: number;
  type: number;
}

/**
 * Splits an H.264 Annex-B byte stream into access units, fed in chunks split anywhere (even inside
 * a start code), as they come from ffmpeg's stdout.
 *
 * A new access unit starts, once the current one holds a slice, at an AUD, SPS, PPS or SEI, or at a
 * slice whose first_mb_in_slice is 0 (H.264 7.4.1.2.3, simplified to what encoders emit). A unit is
 * returned as soon as the first NAL of the next one arrives; with x264's `aud=1` that is the next
 * frame's first bytes, so a unit waits at most one frame interval. Keyframes that arrive without
 * their SPS/PPS get the last ones seen inserted, so every keyframe unit decodes on its own.
 *
 * Bytes before the first picture, and a unit over `maxUnitBytes`, are dropped (see `droppedBytes`)
 * and the splitter waits for the next picture.
 *
 * @example
 * const splitter = new AccessUnitSplitter();
 * ffmpeg.stdout.on('data', (chunk) => splitter.push(chunk).forEach(send));
 * ffmpeg.stdout.on('end', () => splitter.flush().forEach(send));
 */
export class AccessUnitSplitter {
  #buffer = new Uint8Array(INITIAL_CAPACITY_BYTES);
  #length = 0;
  /** Where the search for the next start code resumes. */
  #scanFrom = 0;
  #unitStart = 0;
  /** False until a NAL that can begin a picture is seen; until then NALs are discarded. */
  #synced = false;
  #nals: NalStart[] = [];
  #hasSlice = false;
  #hasIdr = false;
  #sps: Uint8Array | undefined;
  #pps: Uint8Array | undefined;
  #droppedBytes = 0;
  readonly #maxUnitBytes: number;

  constructor(options: { maxUnitBytes?: number } = {}) {
    this.#maxUnitBytes = options.maxUnitBytes ?? MAX_VIDEO_BYTES;
  }

  /** Bytes discarded so far: leading garbage and oversized units. */
  get droppedBytes(): number {
    return this.#droppedBytes;
  }

  /** Adds bytes from the stream and returns the access units they complete, in order. */
  push(chunk: Uint8Array): AccessUnit[] {
    this.#append(chunk);
    const units: AccessUnit[] = [];
    for (;;) {
      const buffer = this.#buffer;
      const one = buffer.subarray(0, this.#length).indexOf(1, this.#scanFrom);
      if (one < 0) {
        this.#scanFrom = this.#length;
        break;
      }
      if (one < 2 || buffer[one - 1] !== 0 || buffer[one - 2] !== 0) {
        this.#scanFrom = one + 1;
        continue;
      }
      // The NAL header and the byte after it decide whether this NAL begins a new picture.
      if (one + 2 >= this.#length) {
        this.#scanFrom = one;
        break;
      }
      const offset = one >= 3 && buffer[one - 3] === 0 ? one - 3 : one - 2;
      const unit = this.#onNal(offset, (buffer[one + 1] ?? 0) & 0x1f, buffer[one + 2] ?? 0);
      if (unit) units.push(unit);
      this.#scanFrom = one + 3;
    }
    return units;
  }

  /** Returns the last unit at the end of the stream, and resets the splitter for a new stream. */
  flush(): AccessUnit[] {
    let end = this.#length;
    const one = this.#scanFrom;
    if (one < this.#length && this.#buffer[one] === 1) {
      // push() stopped at a start code whose NAL the stream cut off after at most its header: no
      // picture can be in it, and a decoder would only choke on the fragment.
      end = one >= 3 && this.#buffer[one - 3] === 0 ? one - 3 : one - 2;
    }
    const units = this.#synced && this.#hasSlice ? [this.#emit(end)] : [];
    this.#length = 0;
    this.#scanFrom = 0;
    this.#unitStart = 0;
    this.#resync();
    return units;
  }

  #onNal(offset: number, type: number, firstPayloadByte: number): AccessUnit | undefined {
    const isSlice = type === NalType.slice || type === NalType.idr;
    let unit: AccessUnit | undefined;
    if (!this.#synced) {
      this.#droppedBytes += offset - this.#unitStart;
      this.#unitStart = offset;
      // Keep skipping until a picture begins: earlier NALs belong to one whose start was lost.
      if (!beginsPicture(type, firstPayloadByte)) return undefined;
      this.#synced = true;
    } else if (this.#hasSlice && beginsPicture(type, firstPayloadByte)) {
      unit = this.#emit(offset);
      this.#unitStart = offset;
      this.#nals = [];
      this.#hasSlice = false;
      this.#hasIdr = false;
    }
    this.#nals.push({ offset, type });
    if (isSlice) this.#hasSlice = true;
    if (type === NalType.idr) this.#hasIdr = true;
    return unit;
  }

  #emit(end: number): AccessUnit {
    const buffer = this.#buffer;
    let hasSps = false;
    let hasPps = false;
    for (const [index, nal] of this.#nals.entries()) {
      const nalEnd = this.#nals[index + 1]?.offset ?? end;
      if (nal.type === NalType.sps) {
        this.#sps = buffer.slice(nal.offset, nalEnd);
        hasSps = true;
      } else if (nal.type === NalType.pps) {
        this.#pps = buffer.slice(nal.offset, nalEnd);
        hasPps = true;
      }
    }
    const data = buffer.slice(this.#unitStart, end);
    if (!this.#hasIdr || (hasSps && hasPps) || !this.#sps || !this.#pps) {
      return { data, keyframe: this.#hasIdr };
    }
    // The parameter sets go after the AUD, which must stay first in the unit.
    const first = this.#nals[0];
    const at = first?.type === NalType.aud ? (this.#nals[1]?.offset ?? end) - this.#unitStart : 0;
    const parts = [data.subarray(0, at), hasSps ? undefined : this.#sps, hasPps ? undefined : this.#pps];
    return { data: concat([...parts, data.subarray(at)]), keyframe: true };
  }

  #append(chunk: Uint8Array): void {
    // Drop what was already emitted (or skipped) before making room.
    if (this.#unitStart > 0) {
      const shift = this.#unitStart;
      this.#buffer.copyWithin(0, shift, this.#length);
      this.#length -= shift;
      this.#scanFrom = Math.max(0, this.#scanFrom - shift);
      for (const nal of this.#nals) nal.offset -= shift;
      this.#unitStart = 0;
    }
    if (this.#length + chunk.byteLength > this.#maxUnitBytes) {
      // Not a stream this splitter understands, or a picture too big to send: start over at the
      // next picture rather than grow without bound.
      this.#droppedBytes += this.#length;
      this.#length = 0;
      this.#scanFrom = 0;
      this.#resync();
    }
    const needed = this.#length + chunk.byteLength;
    if (needed > this.#buffer.byteLength) {
      const grown = new Uint8Array(Math.max(needed, this.#buffer.byteLength * 2));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#buffer.set(chunk, this.#length);
    this.#length = needed;
  }

  #resync(): void {
    this.#synced = false;
    this.#nals = [];
    this.#hasSlice = false;
    this.#hasIdr = false;
  }
}

/**
 * Whether a NAL can only be the first of a picture's access unit, once the current unit holds a slice.
 * For a slice, first_mb_in_slice is the first field and is coded ue(v), so a value of 0 is a single
 * 1 bit: the top bit of the byte after the header.
 */
function beginsPicture(type: number, firstPayloadByte: number): boolean {
  if (type === NalType.slice || type === NalType.idr) return (firstPayloadByte & 0x80) !== 0;
  return (
    type === NalType.aud ||
    type === NalType.sei ||
    type === NalType.sps ||
    type === NalType.pps ||
    (type >= 14 && type <= 18)
  );
}

function concat(parts: readonly (Uint8Array | undefined)[]): Uint8Array {
  const present = parts.filter((part): part is Uint8Array => part !== undefined);
  const out = new Uint8Array(present.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of present) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * Lists the NAL units of an Annex-B buffer: their type and where their payload (after the start code)
 * begins and ends.
 */
export function nalUnits(data: Uint8Array): { type: number; start: number; end: number }[] {
  const starts: number[] = [];
  for (let one = data.indexOf(1, 2); one >= 0; one = data.indexOf(1, one + 1)) {
    if (data[one - 1] === 0 && data[one - 2] === 0) starts.push(one + 1);
  }
  return starts.map((start, index) => {
    const next = starts[index + 1];
    // The next NAL's start code (3 bytes, or 4 with its leading zero) is not part of this one.
    let end = next === undefined ? data.byteLength : next - 3;
    if (next !== undefined && data[end - 1] === 0) end -= 1;
    return { type: (data[start] ?? 0) & 0x1f, start, end };
  });
}

/**
 * The WebCodecs codec string (`avc1.PPCCLL`) for the first SPS in an access unit: profile_idc,
 * the constraint flags byte and level_idc in hex. Undefined when the unit has no SPS.
 *
 * These three bytes directly follow the NAL header, and since profile_idc and level_idc are never
 * zero no emulation-prevention byte can fall among them.
 *
 * @example
 * parseSpsCodecString(keyframe.data); // 'avc1.42C01F' for constrained baseline, level 3.1
 */
export function parseSpsCodecString(unit: Uint8Array): string | undefined {
  const sps = nalUnits(unit).find((nal) => nal.type === NalType.sps);
  if (!sps || sps.end - sps.start < 4) return undefined;
  const hex = (offset: number) => (unit[sps.start + offset] ?? 0).toString(16).toUpperCase().padStart(2, '0');
  return `avc1.${hex(1)}${hex(2)}${hex(3)}`;
}

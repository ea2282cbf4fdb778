import { MAX_VIDEO_BYTES } from '../../protocol/frames.ts';
import { type AccessUnit, NalType } from './annexb.ts';
import {
  AVC_CODEC_ID,
  AVC_PAYLOAD_OFFSET,
  AvcPacketType,
  FILE_HEADER_BYTES,
  TAG_HEADER_BYTES,
  TAG_TRAILER_BYTES,
  TagType,
} from './flv-format.ts';

/** A header size beyond this is not an FLV header but bytes that happen to start with "FLV", in bytes. */
const MAX_FILE_HEADER_BYTES = 1024;

const START_CODE = Uint8Array.of(0, 0, 0, 1);
const SIGNATURE = Uint8Array.of(0x46, 0x4c, 0x56, 0x01); // "FLV", version 1

/** SPS and PPS from the last AVCDecoderConfigurationRecord, each with its start code. */
interface AvcConfig {
  lengthSize: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
}

type State = 'signature' | 'header-rest' | 'tag-header' | 'tag-body' | 'tag-trailer';

/**
 * Demuxes an FLV byte stream, as ffmpeg writes it with `-f flv`, into H.264 Annex-B access units.
 * Fed chunks split anywhere, it returns each video tag's unit as soon as the tag's last byte
 * arrives: FLV says how long every frame is, so unlike a raw Annex-B stream (see
 * `AccessUnitSplitter`) nothing waits for the next frame to begin.
 *
 * Each unit has its AVCC length prefixes replaced by 4-byte start codes. Keyframes that do not carry
 * their SPS and PPS get those of the last sequence header, after an AUD if the unit starts with one,
 * so every keyframe decodes on its own.
 *
 * Never throws. Bytes before the FLV signature are dropped (`droppedBytes`); so is everything after
 * a tag whose PreviousTagSize does not match, up to the next signature, since the framing is lost.
 * Well-framed tags that yield no unit (script data, audio, other codecs, malformed AVC, video over
 * `maxUnitBytes`, and delta frames until a keyframe follows a dropped one) are counted in
 * `skippedTags`; a tag that is skipped is never buffered, whatever size it claims.
 *
 * @example
 * const demuxer = new FlvDemuxer();
 * ffmpeg.stdout.on('data', (chunk) => demuxer.push(chunk).forEach(send));
 */
export class FlvDemuxer {
  #state: State = 'signature';
  /** Collects the file header, a tag header or a tag trailer. */
  readonly #fixed = new Uint8Array(TAG_HEADER_BYTES);
  #fixedLength = 0;
  /** Bytes of the file header after the first 9, plus its PreviousTagSize, still to skip. */
  #headerRest = 0;
  /** The body of the current tag, or undefined while a skipped tag's body passes by. */
  #body: Uint8Array | undefined;
  #bodySize = 0;
  #bodyAt = 0;
  #config: AvcConfig | undefined;
  /** Set while no keyframe has come since the start or since a video tag was skipped. */
  #needKeyframe = true;
  #droppedBytes = 0;
  #skippedTags = 0;
  readonly #maxUnitBytes: number;

  constructor(options: { maxUnitBytes?: number } = {}) {
    this.#maxUnitBytes = options.maxUnitBytes ?? MAX_VIDEO_BYTES;
  }

  /** Bytes discarded outside well-framed tags: before the signature, or after the framing was lost. */
  get droppedBytes(): number {
    return this.#droppedBytes;
  }

  /** Well-framed tags that produced no access unit. */
  get skippedTags(): number {
    return this.#skippedTags;
  }

  /** Adds bytes from the stream and returns the access units they complete, in order. */
  push(chunk: Uint8Array): AccessUnit[] {
    const units: AccessUnit[] = [];
    let at = 0;
    while (at < chunk.byteLength) {
      switch (this.#state) {
        case 'signature':
          at = this.#readSignature(chunk, at);
          break;
        case 'header-rest': {
          const skipped = Math.min(this.#headerRest, chunk.byteLength - at);
          this.#headerRest -= skipped;
          at += skipped;
          if (this.#headerRest === 0) this.#state = 'tag-header';
          break;
        }
        case 'tag-header':
          at = this.#fill(chunk, at, TAG_HEADER_BYTES);
          if (this.#fixedLength === TAG_HEADER_BYTES) this.#onTagHeader();
          break;
        case 'tag-body': {
          const taken = Math.min(this.#bodySize - this.#bodyAt, chunk.byteLength - at);
          this.#body?.set(chunk.subarray(at, at + taken), this.#bodyAt);
          this.#bodyAt += taken;
          at += taken;
          if (this.#bodyAt === this.#bodySize) {
            const unit = this.#onTagBody();
            if (unit) units.push(unit);
          }
          break;
        }
        case 'tag-trailer':
          at = this.#fill(chunk, at, TAG_TRAILER_BYTES);
          if (this.#fixedLength === TAG_TRAILER_BYTES) this.#onTagTrailer();
          break;
      }
    }
    return units;
  }

  /** Copies up to `size` bytes into the fixed buffer; returns where reading stopped. */
  #fill(chunk: Uint8Array, at: number, size: number): number {
    const taken = Math.min(size - this.#fixedLength, chunk.byteLength - at);
    this.#fixed.set(chunk.subarray(at, at + taken), this.#fixedLength);
    this.#fixedLength += taken;
    return at + taken;
  }

  #readSignature(chunk: Uint8Array, start: number): number {
    let at = start;
    while (at < chunk.byteLength && this.#fixedLength < FILE_HEADER_BYTES) {
      const byte = chunk[at++] ?? 0;
      this.#fixed[this.#fixedLength++] = byte;
      if (this.#fixedLength <= SIGNATURE.byteLength && byte !== SIGNATURE[this.#fixedLength - 1]) {
        this.#dropFixedPrefix();
      }
    }
    if (this.#fixedLength < FILE_HEADER_BYTES) return at;
    const headerBytes = readUint32(this.#fixed, 5);
    if (headerBytes < FILE_HEADER_BYTES || headerBytes > MAX_FILE_HEADER_BYTES) {
      this.#dropFixedPrefix();
      return at;
    }
    this.#fixedLength = 0;
    this.#headerRest = headerBytes - FILE_HEADER_BYTES + TAG_TRAILER_BYTES;
    this.#state = 'header-rest';
    return at;
  }

  /**
   * Drops the first collected byte, and any after it that cannot start a signature, counting them.
   * The rest may still begin one ("FFLV" must not lose its "FLV").
   */
  #dropFixedPrefix(): void {
    let from = 1;
    for (; from < this.#fixedLength; from++) {
      const rest = this.#fixed.subarray(from, Math.min(this.#fixedLength, from + SIGNATURE.byteLength));
      if (rest.every((byte, index) => byte === SIGNATURE[index])) break;
    }
    this.#droppedBytes += from;
    this.#fixed.copyWithin(0, from, this.#fixedLength);
    this.#fixedLength -= from;
  }

  #onTagHeader(): void {
    const fixed = this.#fixed;
    const type = (fixed[0] ?? 0) & 0x1f;
    const encrypted = ((fixed[0] ?? 0) & 0x20) !== 0;
    this.#bodySize = readUint24(fixed, 1);
    this.#bodyAt = 0;
    this.#fixedLength = 0;
    const wanted = type === TagType.video && !encrypted && this.#bodySize <= this.#maxUnitBytes;
    this.#body = wanted ? new Uint8Array(this.#bodySize) : undefined;
    if (!wanted) {
      this.#skippedTags += 1;
      if (type === TagType.video) this.#needKeyframe = true;
    }
    this.#state = 'tag-body';
    // An empty body is complete at once; push() would not come back to this state without bytes.
    if (this.#bodySize === 0) this.#onTagBody();
  }

  #onTagBody(): AccessUnit | undefined {
    this.#state = 'tag-trailer';
    const body = this.#body;
    this.#body = undefined;
    if (!body) return undefined;
    const unit = this.#videoTag(body);
    if (!unit) this.#skippedTags += 1;
    return unit;
  }

  #onTagTrailer(): void {
    this.#fixedLength = 0;
    if (readUint32(this.#fixed, 0) === TAG_HEADER_BYTES + this.#bodySize) {
      this.#state = 'tag-header';
      return;
    }
    // The tag was not as long as its header said: nothing after it can be trusted to be a tag.
    this.#droppedBytes += TAG_TRAILER_BYTES;
    this.#config = undefined;
    this.#needKeyframe = true;
    this.#state = 'signature';
  }

  /** Turns a video tag body into an access unit; undefined if it yields none. */
  #videoTag(body: Uint8Array): AccessUnit | undefined {
    if (body.byteLength < 2 || ((body[0] ?? 0) & 0x0f) !== AVC_CODEC_ID) return undefined;
    const packetType = body[1];
    if (packetType === AvcPacketType.sequenceHeader) {
      this.#config = parseDecoderConfig(body.subarray(AVC_PAYLOAD_OFFSET)) ?? this.#config;
      return undefined;
    }
    if (packetType !== AvcPacketType.nalUnits || !this.#config || body.byteLength < AVC_PAYLOAD_OFFSET) {
      return undefined;
    }
    const unit = toAnnexB(body.subarray(AVC_PAYLOAD_OFFSET), this.#config);
    if (!unit) {
      this.#needKeyframe = true;
      return undefined;
    }
    if (this.#needKeyframe && !unit.keyframe) return undefined;
    this.#needKeyframe = false;
    return unit;
  }
}

/**
 * Reads an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.2.4.1): the NAL length size and the
 * SPS and PPS, returned with start codes. Undefined if the record is malformed.
 */
function parseDecoderConfig(record: Uint8Array): AvcConfig | undefined {
  if (record.byteLength < 7 || record[0] !== 1) return undefined;
  const lengthSize = ((record[4] ?? 0) & 0x03) + 1;
  let at = 6;
  const readSets = (count: number): Uint8Array[] | undefined => {
    const sets: Uint8Array[] = [];
    for (let index = 0; index < count; index++) {
      if (at + 2 > record.byteLength) return undefined;
      const size = ((record[at] ?? 0) << 8) | (record[at + 1] ?? 0);
      at += 2;
      if (size === 0 || at + size > record.byteLength) return undefined;
      sets.push(concat([START_CODE, record.subarray(at, at + size)]));
      at += size;
    }
    return sets;
  };
  const sps = readSets((record[5] ?? 0) & 0x1f);
  if (!sps || at >= record.byteLength) return undefined;
  at += 1;
  const pps = readSets(record[at - 1] ?? 0);
  if (!pps || sps.length === 0 || pps.length === 0) return undefined;
  return { lengthSize, sps, pps };
}

/**
 * Converts length-prefixed NAL units to Annex-B, adding the configuration's SPS and PPS to an IDR
 * unit without them. Undefined if a length runs past the end or the unit has no NAL.
 */
function toAnnexB(payload: Uint8Array, config: AvcConfig): AccessUnit | undefined {
  const nals: Uint8Array[] = [];
  const types = new Set<number>();
  let firstType: number | undefined;
  for (let at = 0; at < payload.byteLength; ) {
    if (at + config.lengthSize > payload.byteLength) return undefined;
    let size = 0;
    for (let index = 0; index < config.lengthSize; index++) size = size * 256 + (payload[at + index] ?? 0);
    at += config.lengthSize;
    if (size === 0 || at + size > payload.byteLength) return undefined;
    const nal = payload.subarray(at, at + size);
    const type = (nal[0] ?? 0) & 0x1f;
    firstType ??= type;
    types.add(type);
    nals.push(START_CODE, nal);
    at += size;
  }
  if (nals.length === 0) return undefined;
  const keyframe = types.has(NalType.idr);
  if (keyframe && !(types.has(NalType.sps) && types.has(NalType.pps))) {
    // The parameter sets go after the AUD, which must stay first in the unit.
    const at = firstType === NalType.aud ? 2 : 0;
    const sets = [
      ...(types.has(NalType.sps) ? [] : config.sps),
      ...(types.has(NalType.pps) ? [] : config.pps),
    ];
    nals.splice(at, 0, ...sets);
  }
  return { data: concat(nals), keyframe };
}

function readUint24(data: Uint8Array, at: number): number {
  return ((data[at] ?? 0) << 16) | ((data[at + 1] ?? 0) << 8) | (data[at + 2] ?? 0);
}

function readUint32(data: Uint8Array, at: number): number {
  return (readUint24(data, at) * 256 + (data[at + 3] ?? 0)) >>> 0;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

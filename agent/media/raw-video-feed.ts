/**
 * Raw frames handed to ffmpeg in a minimal live Matroska stream, so that each frame carries a
 * timestamp the agent chose, and through it a keyframe request the ffmpeg command line can act on.
 *
 * The ffmpeg CLI cannot be told while it runs to make the next frame an IDR, but `-force_key_frames
 * expr:` is evaluated on every frame with its timestamp `t`. Timestamps are written in microseconds:
 * an ordinary frame gets an even one, a frame that must be a keyframe an odd one. The encoder keeps
 * the input's microsecond time base (`-enc_time_base -1`, `-vsync vfr`), so the parity reaches the
 * expression intact, and FLV's millisecond timestamps never show the microsecond it cost.
 *
 * Each frame is one Matroska cluster of known size (its timestamp, then one SimpleBlock), so ffmpeg's
 * demuxer hands the frame on as soon as its last byte arrives instead of waiting for the next one.
 * Raw BGR0 is stored as `V_UNCOMPRESSED` with the `BGR\0` colour-space tag.
 */

/** ffmpeg input arguments that read the stream `RawVideoWriter` writes, from standard input. */
export const RAW_VIDEO_INPUT_ARGS: readonly string[] = ['-f', 'matroska', '-i', 'pipe:0'];

/**
 * ffmpeg output arguments that make exactly the frames `RawVideoWriter.frame(…, true)` marked
 * keyframes, besides x264's own keyframe interval (`-g`).
 */
export const MARKED_KEYFRAME_OUTPUT_ARGS: readonly string[] = [
  // The input's microsecond time base, not the frame rate's: rounding to 1/30 s would lose the mark
  // and merge frames that arrive close together.
  ...['-vsync', 'vfr', '-enc_time_base', '-1'],
  ...['-force_key_frames', 'expr:eq(mod(round(t*1000000),2),1)'],
];

/** Matroska timestamps in microseconds (TimestampScale is in nanoseconds). */
const TIMESTAMP_SCALE_NS = 1000;
/** An EBML size that says "unknown": the segment goes on until the stream ends. */
const UNKNOWN_SIZE = Uint8Array.of(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
/** SimpleBlock header: track 1 (as a 1-byte varint), timestamp 0 relative to the cluster, keyframe flag. */
const SIMPLE_BLOCK_HEADER = Uint8Array.of(0x81, 0x00, 0x00, 0x80);
const ID = {
  ebml: 0x1a45dfa3,
  ebmlVersion: 0x4286,
  ebmlReadVersion: 0x42f7,
  ebmlMaxIdLength: 0x42f2,
  ebmlMaxSizeLength: 0x42f3,
  docType: 0x4282,
  docTypeVersion: 0x4287,
  docTypeReadVersion: 0x4285,
  segment: 0x18538067,
  info: 0x1549a966,
  timestampScale: 0x2ad7b1,
  muxingApp: 0x4d80,
  writingApp: 0x5741,
  tracks: 0x1654ae6b,
  trackEntry: 0xae,
  trackNumber: 0xd7,
  trackUid: 0x73c5,
  trackType: 0x83,
  codecId: 0x86,
  video: 0xe0,
  pixelWidth: 0xb0,
  pixelHeight: 0xba,
  colourSpace: 0x2eb524,
  cluster: 0x1f43b675,
  timestamp: 0xe7,
  simpleBlock: 0xa3,
} as const;
const TRACK_TYPE_VIDEO = 1;

/**
 * Writes raw BGR0 frames of one size as Matroska for `RAW_VIDEO_INPUT_ARGS`, with timestamps from the
 * monotonic clock that mark requested keyframes (see `MARKED_KEYFRAME_OUTPUT_ARGS`).
 *
 * @example
 * const writer = new RawVideoWriter({ width: 1280, height: 720 });
 * stdin.write(writer.header());
 * stdin.write(writer.frameHeader(frame.byteLength, keyframe));
 * stdin.write(frame);
 */
export class RawVideoWriter {
  private readonly startedAt = performance.now();
  private lastTimestamp = -1;

  constructor(private readonly size: { width: number; height: number }) {}

  /** The stream's start: written once, before the first frame. */
  header(): Uint8Array {
    const text = (value: string) => new TextEncoder().encode(value);
    return concat([
      element(
        ID.ebml,
        concat([
          element(ID.ebmlVersion, uint(1)),
          element(ID.ebmlReadVersion, uint(1)),
          element(ID.ebmlMaxIdLength, uint(4)),
          element(ID.ebmlMaxSizeLength, uint(8)),
          element(ID.docType, text('matroska')),
          element(ID.docTypeVersion, uint(4)),
          element(ID.docTypeReadVersion, uint(2)),
        ]),
      ),
      idBytes(ID.segment),
      UNKNOWN_SIZE,
      element(
        ID.info,
        concat([
          element(ID.timestampScale, uint(TIMESTAMP_SCALE_NS)),
          element(ID.muxingApp, text('lifeline')),
          element(ID.writingApp, text('lifeline')),
        ]),
      ),
      element(
        ID.tracks,
        element(
          ID.trackEntry,
          concat([
            element(ID.trackNumber, uint(1)),
            element(ID.trackUid, uint(1)),
            element(ID.trackType, uint(TRACK_TYPE_VIDEO)),
            element(ID.codecId, text('V_UNCOMPRESSED')),
            element(
              ID.video,
              concat([
                element(ID.pixelWidth, uint(this.size.width)),
                element(ID.pixelHeight, uint(this.size.height)),
                element(ID.colourSpace, Uint8Array.of(0x42, 0x47, 0x52, 0x00)),
              ]),
            ),
          ]),
        ),
      ),
    ]);
  }

  /**
   * The bytes that go before a frame of `frameBytes` bytes: its cluster, timestamp and block header.
   * Timestamps are microseconds since the writer was made, strictly increasing, odd for a keyframe;
   * the first frame's is 0.
   */
  frameHeader(frameBytes: number, keyframe: boolean): Uint8Array {
    // ffmpeg moves every timestamp by the first one's so that its output starts at 0: the first frame
    // (a keyframe whatever its mark) is at 0, so that the move cannot turn odd into even.
    let timestamp =
      this.lastTimestamp < 0
        ? 0
        : Math.max(Math.round((performance.now() - this.startedAt) * 1000), this.lastTimestamp + 1);
    if (timestamp > 0 && timestamp % 2 !== (keyframe ? 1 : 0)) timestamp++;
    this.lastTimestamp = timestamp;
    const timestampElement = element(ID.timestamp, uint(timestamp));
    const blockSize = SIMPLE_BLOCK_HEADER.byteLength + frameBytes;
    return concat([
      idBytes(ID.cluster),
      sizeBytes(timestampElement.byteLength + idBytes(ID.simpleBlock).byteLength + 8 + blockSize),
      timestampElement,
      idBytes(ID.simpleBlock),
      sizeBytes(blockSize),
      SIMPLE_BLOCK_HEADER,
    ]);
  }
}

function element(id: number, payload: Uint8Array): Uint8Array {
  return concat([idBytes(id), sizeBytes(payload.byteLength), payload]);
}

/** An element id as written: its own length marker is part of the number. */
function idBytes(id: number): Uint8Array {
  const length = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (id >>> (8 * (length - 1 - i))) & 0xff;
  return bytes;
}

/** A size as an 8-byte EBML varint (the widest, so every size fits). */
function sizeBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(size) | (1n << 56n));
  return bytes;
}

function uint(value: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(value));
  return bytes;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}

import { Writable } from 'node:stream';

/** One frame of the Matroska stream `RawVideoWriter` writes for ffmpeg. */
export interface RawVideoFrame {
  /** Microseconds since the stream began. */
  timestamp: number;
  /** Marked for `-force_key_frames`: an odd timestamp. */
  keyframe: boolean;
  data: Buffer;
}

const SEGMENT_ID = 0x18538067;
const CLUSTER_ID = 0x1f43b675;
const TIMESTAMP_ID = 0xe7;
const SIMPLE_BLOCK_ID = 0xa3;
/** Track number, relative timestamp and flags before a SimpleBlock's frame. */
const SIMPLE_BLOCK_HEADER_BYTES = 4;

/**
 * A stand-in for ffmpeg's standard input that keeps every byte written, and reads the frames back
 * the way ffmpeg's Matroska demuxer would (only whole frames; a partly written one is left out).
 */
export function rawVideoSink(): { stdin: Writable; frames(): RawVideoFrame[] } {
  const chunks: Buffer[] = [];
  const stdin = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return { stdin, frames: () => parseRawVideoStream(Buffer.concat(chunks)) };
}

/** The frames of a Matroska stream as `RawVideoWriter` writes it: one cluster per frame. */
export function parseRawVideoStream(bytes: Buffer): RawVideoFrame[] {
  const frames: RawVideoFrame[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    const id = readVarint(bytes, offset, false);
    if (!id) break;
    const size = readVarint(bytes, offset + id.length, true);
    if (!size) break;
    const body = offset + id.length + size.length;
    if (id.value === SEGMENT_ID) {
      // Its size is unknown: its children follow.
      offset = body;
      continue;
    }
    if (body + size.value > bytes.byteLength) break;
    if (id.value === CLUSTER_ID) frames.push(clusterFrame(bytes.subarray(body, body + size.value)));
    offset = body + size.value;
  }
  return frames;
}

function clusterFrame(cluster: Buffer): RawVideoFrame {
  let timestamp: number | undefined;
  let data: Buffer | undefined;
  let offset = 0;
  while (offset < cluster.byteLength) {
    const id = readVarint(cluster, offset, false);
    const size = id && readVarint(cluster, offset + id.length, true);
    if (!id || !size) throw new Error('a truncated cluster');
    const body = offset + id.length + size.length;
    const payload = cluster.subarray(body, body + size.value);
    if (id.value === TIMESTAMP_ID) timestamp = Number(payload.readBigUInt64BE(payload.byteLength - 8));
    if (id.value === SIMPLE_BLOCK_ID) data = payload.subarray(SIMPLE_BLOCK_HEADER_BYTES);
    offset = body + size.value;
  }
  if (timestamp === undefined || !data) throw new Error('a cluster without a timestamp or a block');
  return { timestamp, keyframe: timestamp % 2 === 1, data };
}

/** An EBML varint: ids keep their length marker, sizes drop it. */
function readVarint(
  bytes: Buffer,
  offset: number,
  dropMarker: boolean,
): { value: number; length: number } | undefined {
  const first = bytes[offset];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (offset + length > bytes.byteLength) return undefined;
  let value = dropMarker ? first & (0xff >> length) : first;
  for (let i = 1; i < length; i++) value = value * 256 + (bytes[offset + i] ?? 0);
  return { value, length };
}

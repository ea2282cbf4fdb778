import { FILE_CHUNK_BYTES } from './channels.ts';
import { type ControlMessage, controlMessageSchema } from './messages.ts';

/**
 * Binary frames: a one-byte kind, then either UTF-8 JSON (control) or a payload behind a small fixed
 * header. Kinds are never reused or renumbered.
 */
export const FrameKind = {
  control: 0x01,
  video: 0x02,
  /** Part of a file: channel u32, offset f64, bytes. */
  file: 0x03,
  /** Shell or command bytes: channel u32, stream u8, bytes. */
  shell: 0x04,
} as const;

/** Largest control message accepted, in bytes. */
export const MAX_CONTROL_BYTES = 64 * 1024;
/** Largest video access unit accepted, in bytes. A 4K keyframe at high quality stays well below. */
export const MAX_VIDEO_BYTES = 8 * 1024 * 1024;
/** kind(1) + flags(1) + sequence(4) + capture time(8). */
export const VIDEO_HEADER_BYTES = 14;

/** kind(1) + channel(4) + offset(8). */
export const FILE_HEADER_BYTES = 13;
/** kind(1) + channel(4) + stream(1). */
export const SHELL_HEADER_BYTES = 6;
/** Largest shell-data payload accepted, in bytes. */
export const MAX_SHELL_BYTES = 64 * 1024;

const VIDEO_FLAG_KEYFRAME = 0x01;

/** One H.264 access unit, Annex-B encoded. */
export interface VideoFrame {
  kind: 'video';
  keyframe: boolean;
  /** Increases by one per access unit; wraps at 2^32. */
  sequence: number;
  /** When the agent captured the picture, in milliseconds since the Unix epoch. */
  captureTime: number;
  data: Uint8Array;
}

export interface ControlFrame {
  kind: 'control';
  message: ControlMessage;
}

/** Bytes of a file at `offset`, on a transfer's channel. */
export interface FileChunkFrame {
  kind: 'file';
  channel: number;
  offset: number;
  data: Uint8Array;
}

/** Bytes of a shell or a command's output (or a terminal's keystrokes) on a channel. */
export interface ShellDataFrame {
  kind: 'shell';
  channel: number;
  /** ShellStream: 0 terminal, 1 stdout, 2 stderr. */
  stream: number;
  data: Uint8Array;
}

export type Frame = ControlFrame | VideoFrame | FileChunkFrame | ShellDataFrame;

/** Why a frame was refused; decoders never throw. */
export type DecodeResult = { ok: true; frame: Frame } | { ok: false; reason: string; tooLarge?: boolean };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** `data` behind a fixed header of `headerBytes` that starts with `kind`; `fill` writes the rest of the header. */
function behindHeader(
  kind: number,
  headerBytes: number,
  data: Uint8Array,
  fill?: (header: DataView) => void,
): Uint8Array {
  const out = new Uint8Array(headerBytes + data.byteLength);
  out[0] = kind;
  fill?.(new DataView(out.buffer));
  out.set(data, headerBytes);
  return out;
}

/** Encodes a control message as a binary frame. */
export function encodeControl(message: ControlMessage): Uint8Array {
  return behindHeader(FrameKind.control, 1, encoder.encode(JSON.stringify(message)));
}

/** Encodes a video access unit behind its fixed header. */
export function encodeVideo(frame: Omit<VideoFrame, 'kind'>): Uint8Array {
  return behindHeader(FrameKind.video, VIDEO_HEADER_BYTES, frame.data, (header) => {
    header.setUint8(1, frame.keyframe ? VIDEO_FLAG_KEYFRAME : 0);
    header.setUint32(2, frame.sequence >>> 0);
    header.setFloat64(6, frame.captureTime);
  });
}

/** Encodes part of a file behind its fixed header. */
export function encodeFileChunk(frame: Omit<FileChunkFrame, 'kind'>): Uint8Array {
  return behindHeader(FrameKind.file, FILE_HEADER_BYTES, frame.data, (header) => {
    header.setUint32(1, frame.channel >>> 0);
    header.setFloat64(5, frame.offset);
  });
}

/** Encodes shell or command bytes behind their fixed header. */
export function encodeShellData(frame: Omit<ShellDataFrame, 'kind'>): Uint8Array {
  return behindHeader(FrameKind.shell, SHELL_HEADER_BYTES, frame.data, (header) => {
    header.setUint32(1, frame.channel >>> 0);
    header.setUint8(5, frame.stream);
  });
}

/** Reads the channel of a file or shell frame without decoding the rest, for routing. */
export function peekChannel(data: Uint8Array): number | undefined {
  if ((data[0] !== FrameKind.file && data[0] !== FrameKind.shell) || data.byteLength < 5) return undefined;
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1);
}

/** Reads the kind byte without decoding the rest, for routing on the relay's hot path. */
export function peekKind(data: Uint8Array): number | undefined {
  return data[0];
}

/** Reads the keyframe flag of an encoded video frame without copying it. */
export function isKeyframe(data: Uint8Array): boolean {
  return data[0] === FrameKind.video && ((data[1] ?? 0) & VIDEO_FLAG_KEYFRAME) !== 0;
}

function toBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/**
 * Decodes and validates one frame. Every malformed, truncated, oversized or unknown frame is
 * refused with a reason.
 */
export function decodeFrame(input: ArrayBuffer | ArrayBufferView): DecodeResult {
  const data = toBytes(input);
  if (data.byteLength === 0) return { ok: false, reason: 'empty frame' };
  switch (data[0]) {
    case FrameKind.control:
      return decodeControlFrame(data);
    case FrameKind.video:
      return decodeVideoFrame(data);
    case FrameKind.file:
      return decodeFileFrame(data);
    case FrameKind.shell:
      return decodeShellFrame(data);
    default:
      return { ok: false, reason: `unknown frame kind ${data[0]}` };
  }
}

function decodeControlFrame(data: Uint8Array): DecodeResult {
  if (data.byteLength - 1 > MAX_CONTROL_BYTES) {
    return {
      ok: false,
      reason: `control message of ${data.byteLength - 1} bytes exceeds ${MAX_CONTROL_BYTES}`,
      tooLarge: true,
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data.subarray(1)));
  } catch {
    return { ok: false, reason: 'control message is not UTF-8 JSON' };
  }
  const result = controlMessageSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    return { ok: false, reason: `invalid control message${where}: ${issue?.message ?? 'unknown'}` };
  }
  return { ok: true, frame: { kind: 'control', message: result.data } };
}

function decodeVideoFrame(data: Uint8Array): DecodeResult {
  if (data.byteLength < VIDEO_HEADER_BYTES) return { ok: false, reason: 'truncated video header' };
  if (data.byteLength - VIDEO_HEADER_BYTES > MAX_VIDEO_BYTES) {
    return { ok: false, reason: 'video access unit too large', tooLarge: true };
  }
  const flags = data[1] ?? 0;
  if ((flags & ~VIDEO_FLAG_KEYFRAME) !== 0) return { ok: false, reason: `unknown video flags ${flags}` };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const captureTime = view.getFloat64(6);
  if (!Number.isFinite(captureTime) || captureTime < 0) return { ok: false, reason: 'invalid capture time' };
  if (data.byteLength === VIDEO_HEADER_BYTES) return { ok: false, reason: 'empty video access unit' };
  return {
    ok: true,
    frame: {
      kind: 'video',
      keyframe: (flags & VIDEO_FLAG_KEYFRAME) !== 0,
      sequence: view.getUint32(2),
      captureTime,
      data: data.subarray(VIDEO_HEADER_BYTES),
    },
  };
}

function decodeFileFrame(data: Uint8Array): DecodeResult {
  if (data.byteLength < FILE_HEADER_BYTES) return { ok: false, reason: 'truncated file header' };
  if (data.byteLength - FILE_HEADER_BYTES > FILE_CHUNK_BYTES) {
    return { ok: false, reason: 'file chunk too large', tooLarge: true };
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const channel = view.getUint32(1);
  if (channel < 0x10000) return { ok: false, reason: `invalid channel ${channel}` };
  const offset = view.getFloat64(5);
  if (!Number.isSafeInteger(offset) || offset < 0) return { ok: false, reason: 'invalid file offset' };
  if (data.byteLength === FILE_HEADER_BYTES) return { ok: false, reason: 'empty file chunk' };
  return { ok: true, frame: { kind: 'file', channel, offset, data: data.subarray(FILE_HEADER_BYTES) } };
}

function decodeShellFrame(data: Uint8Array): DecodeResult {
  if (data.byteLength < SHELL_HEADER_BYTES) return { ok: false, reason: 'truncated shell header' };
  if (data.byteLength - SHELL_HEADER_BYTES > MAX_SHELL_BYTES) {
    return { ok: false, reason: 'shell data too large', tooLarge: true };
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const channel = view.getUint32(1);
  if (channel < 0x10000) return { ok: false, reason: `invalid channel ${channel}` };
  const stream = data[5] ?? 0;
  if (stream > 2) return { ok: false, reason: `unknown shell stream ${stream}` };
  if (data.byteLength === SHELL_HEADER_BYTES) return { ok: false, reason: 'empty shell data' };
  return { ok: true, frame: { kind: 'shell', channel, stream, data: data.subarray(SHELL_HEADER_BYTES) } };
}

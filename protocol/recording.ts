/**
 * The session recording container (`.llrec`), written by the relay and read by the console's player.
 * Append-only, so a recording cut short by a crash is still readable up to its last whole record.
 *
 * Layout:
 * - one header line: `LLREC1 ` + JSON {@link RecordingHeader} + `\n` (UTF-8);
 * - then records, each `[u32 payload length][f64 milliseconds since startedAt][u8 kind][payload]`,
 *   big-endian, 13 header bytes per record:
 *   - kind 1 `video`: one video frame exactly as the agent sent it on the wire (its own header
 *     carries the keyframe flag, sequence and capture time; see frames.ts);
 *   - kind 2 `video-config`: the `video-config` control message as JSON;
 *   - kind 3 `chat`: the chat message as the relay stamped it (`from`, `sentAt`), as JSON;
 *   - kind 4 `event`: `{action, details?}` as JSON: consent, permissions, operators joining and
 *     leaving, shells opened (`details.cols`, `rows`) and resized (`shell.resize`), commands run,
 *     files read and written (what the relay audits);
 *   - kind 5 `shell`: a terminal's output, the agent's shell-data frame exactly as it was sent on
 *     the wire (channel, stream, bytes; see frames.ts). Readers that predate it skip it.
 *   - kind 6 `cursor`: a `cursor-shape` or `cursor-position` control message as JSON, from agents
 *     that leave the cursor out of the picture (X11); the player draws it over the video. Readers
 *     that predate it skip it.
 */

/** The first bytes of every recording. */
export const RECORDING_MAGIC = 'LLREC1 ';
/** Bytes before each record's payload: length, time, kind. */
export const RECORD_HEADER_BYTES = 13;
/** Longest header line accepted by the decoder, in bytes. */
export const MAX_RECORDING_HEADER_BYTES = 64 * 1024;

export const RecordKind = { video: 1, videoConfig: 2, chat: 3, event: 4, shell: 5, cursor: 6 } as const;
export type RecordKindName = keyof typeof RecordKind;

export interface RecordingHeader {
  version: 1;
  sessionId: string;
  /** Epoch milliseconds of the consent that started the recording: record times count from here. */
  startedAt: number;
}

/** One decoded record. `payload` is a view into the decoded buffer, not a copy. */
export interface RecordingRecord {
  /** Milliseconds since the header's startedAt. */
  at: number;
  kind: RecordKindName;
  payload: Uint8Array;
}

export type RecordingDecodeResult =
  | {
      ok: true;
      header: RecordingHeader;
      records: RecordingRecord[];
      /** Bytes at the end that do not make a whole record (a recording cut short), or unknown kinds. */
      skippedBytes: number;
    }
  | { ok: false; reason: string };

const KIND_NAMES = new Map<number, RecordKindName>(
  Object.entries(RecordKind).map(([name, value]) => [value, name as RecordKindName]),
);

/** Encodes the header line. */
export function encodeRecordingHeader(header: RecordingHeader): Uint8Array {
  return new TextEncoder().encode(`${RECORDING_MAGIC}${JSON.stringify(header)}\n`);
}

/** Encodes one record. */
export function encodeRecord(at: number, kind: RecordKindName, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.byteLength);
  view.setFloat64(4, at);
  view.setUint8(12, RecordKind[kind]);
  out.set(payload, RECORD_HEADER_BYTES);
  return out;
}

/** Encodes a JSON record (video-config, chat, event). */
export function encodeJsonRecord(
  at: number,
  kind: Exclude<RecordKindName, 'video'>,
  value: unknown,
): Uint8Array {
  return encodeRecord(at, kind, new TextEncoder().encode(JSON.stringify(value)));
}

/** Parses a JSON record's payload; undefined when it is not JSON. Never throws. */
export function recordJson(record: RecordingRecord): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(record.payload));
  } catch {
    return undefined;
  }
}

/**
 * Decodes the header line at the start of `bytes`; `length` is how many bytes it took (newline
 * included). Never throws.
 */
export function decodeRecordingHeader(
  bytes: Uint8Array,
): { ok: true; header: RecordingHeader; length: number } | { ok: false; reason: string } {
  const limit = Math.min(bytes.byteLength, MAX_RECORDING_HEADER_BYTES);
  const newline = bytes.subarray(0, limit).indexOf(0x0a);
  if (newline < 0) return { ok: false, reason: 'no header line' };
  const line = new TextDecoder().decode(bytes.subarray(0, newline));
  if (!line.startsWith(RECORDING_MAGIC)) return { ok: false, reason: 'not a Lifeline recording' };
  try {
    const parsed = JSON.parse(line.slice(RECORDING_MAGIC.length)) as Partial<RecordingHeader> | null;
    if (parsed?.version !== 1 || typeof parsed.sessionId !== 'string' || typeof parsed.startedAt !== 'number')
      return { ok: false, reason: 'unsupported recording header' };
    return {
      ok: true,
      header: { version: 1, sessionId: parsed.sessionId, startedAt: parsed.startedAt },
      length: newline + 1,
    };
  } catch {
    return { ok: false, reason: 'unreadable recording header' };
  }
}

/**
 * Decodes the whole records at the start of `bytes` (which follow the header line, or a previous
 * call's `consumed`), for readers that take a file in pieces. A record of an unknown kind is
 * skipped and counted; a record cut off at the end is left for the next piece (not in `consumed`).
 */
export function decodeRecords(bytes: Uint8Array): {
  records: RecordingRecord[];
  consumed: number;
  skippedBytes: number;
} {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: RecordingRecord[] = [];
  let skippedBytes = 0;
  let offset = 0;
  while (offset + RECORD_HEADER_BYTES <= bytes.byteLength) {
    const length = view.getUint32(offset);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (end > bytes.byteLength) break;
    const at = view.getFloat64(offset + 4);
    const kind = KIND_NAMES.get(view.getUint8(offset + 12));
    if (kind && Number.isFinite(at)) {
      records.push({ at, kind, payload: bytes.subarray(offset + RECORD_HEADER_BYTES, end) });
    } else {
      skippedBytes += end - offset;
    }
    offset = end;
  }
  return { records, consumed: offset, skippedBytes };
}

/**
 * Decodes a whole recording. Never throws: a bad header is `{ok: false}`; a truncated tail or a
 * record of an unknown kind is skipped and counted in `skippedBytes`.
 */
export function decodeRecording(input: ArrayBuffer | ArrayBufferView): RecordingDecodeResult {
  const bytes =
    input instanceof ArrayBuffer
      ? new Uint8Array(input)
      : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const header = decodeRecordingHeader(bytes);
  if (!header.ok) return header;
  const body = bytes.subarray(header.length);
  const { records, consumed, skippedBytes } = decodeRecords(body);
  return {
    ok: true,
    header: header.header,
    records,
    skippedBytes: skippedBytes + body.byteLength - consumed,
  };
}

import { decodeFrame } from '../../protocol/frames.ts';
import { type RecordingHeader, type RecordingRecord, recordJson } from '../../protocol/recording.ts';

/** The media type asciinema gives asciicast files. */
export const ASCIICAST_MEDIA_TYPE = 'application/x-asciicast';

interface ShellEvent {
  action?: unknown;
  details?: { channel?: unknown; cols?: unknown; rows?: unknown };
}

/** A `shell.open` or `shell.resize` event of the recording, for `channel` (any when undefined). */
function shellEvent(record: RecordingRecord, action: string, channel: number | undefined) {
  if (record.kind !== 'event') return undefined;
  const value = recordJson(record) as ShellEvent | undefined;
  const details = value?.details;
  if (value?.action !== action || typeof details?.channel !== 'number') return undefined;
  if (channel !== undefined && details.channel !== channel) return undefined;
  const size = (n: unknown, fallback: number) =>
    typeof n === 'number' && Number.isInteger(n) ? n : fallback;
  return { channel: details.channel, cols: size(details.cols, 80), rows: size(details.rows, 24) };
}

const seconds = (ms: number) => Math.round(ms * 1000) / 1_000_000;

/**
 * One shell of a recording as an asciicast v2 file (https://docs.asciinema.org/manual/asciicast/v2/),
 * line by line: the header (the size the shell opened with), then `[seconds since it opened, "o",
 * output]` and `[…, "r", "COLSxROWS"]` events in order. The shell is the one on `channel`, or the
 * first one opened. Yields nothing when the recording has no such shell. Output is UTF-8 decoded as a
 * stream, so a character split across two frames stays whole.
 */
export async function* asciicastLines(
  header: RecordingHeader,
  records: AsyncIterable<RecordingRecord>,
  channel: number | undefined,
): AsyncGenerator<string> {
  let shell: { channel: number; openedAt: number } | undefined;
  const decoder = new TextDecoder();
  let lastAt = 0;
  for await (const record of records) {
    if (!shell) {
      const opened = shellEvent(record, 'shell.open', channel);
      if (!opened) continue;
      shell = { channel: opened.channel, openedAt: record.at };
      yield `${JSON.stringify({
        version: 2,
        width: opened.cols,
        height: opened.rows,
        timestamp: Math.floor((header.startedAt + record.at) / 1000),
        title: `Lifeline session ${header.sessionId}, shell ${opened.channel}`,
      })}\n`;
      continue;
    }
    const at = seconds(record.at - shell.openedAt);
    lastAt = at;
    if (record.kind === 'shell') {
      const decoded = decodeFrame(record.payload);
      if (!decoded.ok || decoded.frame.kind !== 'shell' || decoded.frame.channel !== shell.channel) continue;
      const text = decoder.decode(decoded.frame.data, { stream: true });
      if (text !== '') yield `${JSON.stringify([at, 'o', text])}\n`;
      continue;
    }
    const resized = shellEvent(record, 'shell.resize', shell.channel);
    if (resized) yield `${JSON.stringify([at, 'r', `${resized.cols}x${resized.rows}`])}\n`;
    // The same channel opened again is another shell: this one has ended.
    if (shellEvent(record, 'shell.open', shell.channel)) break;
  }
  const rest = decoder.decode();
  // Bytes of a character the output never finished: shown as U+FFFD, as a terminal would.
  if (shell && rest !== '') yield `${JSON.stringify([lastAt, 'o', rest])}\n`;
}

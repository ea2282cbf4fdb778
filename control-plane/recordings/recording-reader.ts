import { open } from 'node:fs/promises';
import {
  decodeRecordingHeader,
  decodeRecords,
  MAX_RECORDING_HEADER_BYTES,
  type RecordingHeader,
  type RecordingRecord,
} from '../../protocol/recording.ts';

/** Bytes read from the file at a time. */
const READ_BYTES = 1024 * 1024;

/**
 * Opens a recording file and reads its records a piece at a time, so an export never holds the
 * whole file. Rejects when the header is not a recording's; a record cut short at the end (a
 * recording left by a crash) ends the records. The file closes when the records are read to the end
 * or left early, or with `close()` (for a reader that may not start them).
 */
export async function openRecording(path: string): Promise<{
  header: RecordingHeader;
  records: AsyncIterable<RecordingRecord>;
  close(): Promise<void>;
}> {
  const handle = await open(path, 'r');
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  try {
    const first = new Uint8Array(MAX_RECORDING_HEADER_BYTES);
    const { bytesRead } = await handle.read(first, 0, first.byteLength, 0);
    const header = decodeRecordingHeader(first.subarray(0, bytesRead));
    if (!header.ok) throw new Error(`not a readable recording: ${header.reason}`);
    return { header: header.header, records: recordsOf(handle, header.length, close), close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function* recordsOf(
  handle: Awaited<ReturnType<typeof open>>,
  position: number,
  close: () => Promise<void>,
): AsyncGenerator<RecordingRecord> {
  try {
    let pending = new Uint8Array(0);
    for (;;) {
      const chunk = new Uint8Array(READ_BYTES);
      const { bytesRead } = await handle.read(chunk, 0, READ_BYTES, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      // A new buffer each time: the records handed out are views into the previous one.
      const bytes = new Uint8Array(pending.byteLength + bytesRead);
      bytes.set(pending);
      bytes.set(chunk.subarray(0, bytesRead), pending.byteLength);
      const { records, consumed } = decodeRecords(bytes);
      yield* records;
      pending = bytes.subarray(consumed);
    }
  } finally {
    await close();
  }
}

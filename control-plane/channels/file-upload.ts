import { createHash } from 'node:crypto';
import { encodeFileChunk, FILE_CHUNK_BYTES, FILE_WINDOW_BYTES } from '../../protocol/index.ts';
import type { ApiParticipant } from './api-participant.ts';
import { ChannelFailure } from './channel-failure.ts';
import { REQUEST_TIMEOUT_MS } from './channel-request.ts';

/** An upload gives up when the agent acknowledges nothing for this long, in milliseconds. */
export const UPLOAD_STALL_MS = 60_000;

export interface UploadRequest {
  path: string;
  size: number;
  overwrite: boolean;
  /** The upload is given up when the client sends no byte for this long, in milliseconds. */
  idleMs: number;
}

/** The client stopped sending the body: answered 408, the connection closed. */
export class BodyStalled extends ChannelFailure {
  constructor(idleMs: number) {
    super(
      'TIMEOUT',
      `The request body stalled: no bytes for ${idleMs / 1000} s. Retry to resume the upload.`,
    );
  }
}

export interface UploadResult {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Streams an HTTP request body to a file on the agent. The body is read only as fast as the agent
 * acknowledges (at most FILE_WINDOW_BYTES in flight), so a fast client waits on the agent instead of
 * filling the server's memory. When the agent holds part of the file from an interrupted upload, the
 * body's first bytes up to that offset are skipped, though still hashed: the checksum in `file-end`
 * covers the whole file, and a part that differs from this body is caught as CHECKSUM_MISMATCH.
 * A body that stalls for `idleMs` fails with BodyStalled: the agent closes its part (kept for a
 * resume) and the caller's lease goes, instead of both waiting on the client forever.
 */
export async function uploadFile(
  participant: ApiParticipant,
  request: UploadRequest,
  body: ReadableStream<Uint8Array> | null,
  signal: AbortSignal,
): Promise<UploadResult> {
  let ready: number | undefined;
  let acked = 0;
  let stored: string | undefined;
  let failure: ChannelFailure | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const fail = (reason: ChannelFailure) => {
    failure ??= reason;
    poke();
  };

  const channel = participant.open({
    message: (message) => {
      if (message.type === 'file-ready') {
        ready = message.offset;
        acked = message.offset;
      } else if (message.type === 'file-ack') acked = Math.max(acked, message.offset);
      else if (message.type === 'file-done') stored = message.path;
      else if (message.type === 'channel-error') fail(new ChannelFailure(message.code, message.message));
      else if (message.type === 'channel-close')
        fail(new ChannelFailure('IO_ERROR', 'The agent stopped receiving the file.'));
      poke();
    },
    data: () => {},
    lost: fail,
  });
  const onAbort = () => fail(new ChannelFailure('CONFLICT', 'The upload was cancelled.'));
  signal.addEventListener('abort', onAbort);

  /** Waits until `condition` holds; fails on the channel's failure or after `timeoutMs` without progress. */
  const until = async (condition: () => boolean, timeoutMs: number, what: string) => {
    while (!condition()) {
      if (failure) throw failure;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(
          () => fail(new ChannelFailure('TIMEOUT', `The agent did not ${what} in time.`)),
          timeoutMs,
        );
      });
      clearTimeout(timer);
    }
    if (failure) throw failure;
  };

  const reader = body?.getReader();
  let bodyDone = false;
  /** The next piece of the body, or BodyStalled when none comes within `idleMs`. */
  const read = (from: ReadableStreamDefaultReader<Uint8Array>) =>
    new Promise<ReadableStreamReadResult<Uint8Array>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new BodyStalled(request.idleMs)), request.idleMs);
      from.read().then(
        (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(
            new ChannelFailure('VALIDATION_FAILED', 'The request body was cut short.', { cause: error }),
          );
        },
      );
    });
  try {
    participant.send({
      type: 'file-write',
      channel,
      path: request.path,
      size: request.size,
      overwrite: request.overwrite,
    });
    await until(() => ready !== undefined, REQUEST_TIMEOUT_MS, 'accept the file');
    const skip = ready ?? 0;
    const hash = createHash('sha256');
    let consumed = 0;
    let sent = skip;
    while (reader) {
      const { done, value } = await read(reader);
      if (done) break;
      if (consumed + value.byteLength > request.size) {
        throw new ChannelFailure(
          'VALIDATION_FAILED',
          `The body is longer than its Content-Length (${request.size}).`,
        );
      }
      hash.update(value);
      const from = Math.max(0, skip - consumed);
      consumed += value.byteLength;
      for (let at = from; at < value.byteLength; at += FILE_CHUNK_BYTES) {
        const piece = value.subarray(at, Math.min(at + FILE_CHUNK_BYTES, value.byteLength));
        await until(
          () => sent + piece.byteLength - acked <= FILE_WINDOW_BYTES,
          UPLOAD_STALL_MS,
          'take the file',
        );
        participant.sendBytes(encodeFileChunk({ channel, offset: sent, data: piece }));
        sent += piece.byteLength;
      }
    }
    bodyDone = true;
    if (consumed !== request.size) {
      throw new ChannelFailure(
        'VALIDATION_FAILED',
        `The body ended after ${consumed} of ${request.size} bytes.`,
      );
    }
    const sha256 = hash.digest('hex');
    participant.send({ type: 'file-end', channel, size: request.size, sha256 });
    await until(() => stored !== undefined, UPLOAD_STALL_MS, 'store the file');
    return { path: stored ?? request.path, size: request.size, sha256 };
  } catch (error) {
    // The agent keeps what it has as a part file, so the same upload can resume from there.
    participant.close(channel);
    if (!bodyDone) await reader?.cancel().catch(() => {});
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    participant.release(channel);
  }
}

import { createHash } from 'node:crypto';
import { type ChunkSource, FileSender, isTransferError } from '../../protocol/peer/transfer.ts';
import type { ApiParticipant } from './api-participant.ts';
import { ChannelFailure } from './channel-failure.ts';
import { REQUEST_TIMEOUT_MS } from './channel-request.ts';

/** An upload gives up when the agent acknowledges nothing for this long, in milliseconds. */
export const UPLOAD_STALL_MS = 60_000;
/** How long the end user may take to accept or refuse a file they are asked about, in milliseconds. */
export const USER_ANSWER_MS = 5 * 60_000;

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
  /** The agent asks its user about the file: their answer may take longer than a device's. */
  let offered = false;
  let sender: FileSender | undefined;
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
    sender?.abort(failure);
    poke();
  };

  const channel = participant.open({
    message: (message) => {
      if (message.type === 'file-ready') ready ??= message.offset;
      else if (message.type === 'file-offered') offered = true;
      else if (message.type === 'file-ack') sender?.ack(message.offset);
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

  const source = new BodySource(body?.getReader(), request.size, request.idleMs);
  try {
    participant.send({
      type: 'file-write',
      channel,
      path: request.path,
      size: request.size,
      overwrite: request.overwrite,
    });
    await until(() => ready !== undefined || offered, REQUEST_TIMEOUT_MS, 'accept the file');
    if (ready === undefined)
      await until(() => ready !== undefined, USER_ANSWER_MS, 'get an answer from the user about the file');
    sender = new FileSender({
      link: participant,
      channel,
      size: request.size,
      start: ready ?? 0,
      // The head the agent already holds is read and hashed but not sent: file-end covers the whole file.
      source,
      hasher: createHash('sha256'),
      stallMs: UPLOAD_STALL_MS,
    });
    try {
      await sender.run();
    } catch (error) {
      if (isTransferError(error, 'stalled'))
        throw new ChannelFailure('TIMEOUT', 'The agent did not take the file in time.');
      throw error;
    }
    await source.finish();
    const sha256 = sender.end();
    await until(() => stored !== undefined, UPLOAD_STALL_MS, 'store the file');
    return { path: stored ?? request.path, size: request.size, sha256 };
  } catch (error) {
    // The agent keeps what it has as a part file, so the same upload can resume from there.
    participant.close(channel);
    sender?.stop();
    await source.cancel();
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    participant.release(channel);
  }
}

/**
 * A request body read in order as the sender asks for it, each read waiting at most `idleMs`
 * (then BodyStalled). It must hold exactly `size` bytes: shorter or longer is VALIDATION_FAILED.
 */
class BodySource implements ChunkSource {
  #pending: Uint8Array = new Uint8Array(0);
  /** Bytes taken from the body so far. */
  #consumed = 0;
  #done = false;

  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
    private readonly size: number,
    private readonly idleMs: number,
  ) {
    if (!reader) this.#done = true;
  }

  /** The next bytes of the body (the offset is where they are: bodies are read in order). */
  async read(_offset: number, length: number): Promise<Uint8Array> {
    while (this.#pending.byteLength === 0 && !this.#done) await this.#pull();
    if (this.#pending.byteLength === 0) throw this.#endedEarly();
    const piece = this.#pending.subarray(0, length);
    this.#pending = this.#pending.subarray(piece.byteLength);
    return piece;
  }

  /** Reads to the end of the body, which must end exactly at its size. */
  async finish(): Promise<void> {
    while (!this.#done) await this.#pull();
    if (this.#consumed !== this.size) throw this.#endedEarly();
  }

  /** Stops reading a body that will not be used up. */
  async cancel(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.reader?.cancel().catch(() => {});
  }

  async #pull(): Promise<void> {
    const reader = this.reader;
    if (!reader) return;
    const { done, value } = await readWithin(reader, this.idleMs);
    if (done) {
      this.#done = true;
      return;
    }
    if (this.#consumed + value.byteLength > this.size) {
      throw new ChannelFailure(
        'VALIDATION_FAILED',
        `The body is longer than its Content-Length (${this.size}).`,
      );
    }
    this.#consumed += value.byteLength;
    this.#pending = value;
  }

  #endedEarly(): ChannelFailure {
    return new ChannelFailure(
      'VALIDATION_FAILED',
      `The body ended after ${this.#consumed} of ${this.size} bytes.`,
    );
  }
}

/** The next piece of a body, or BodyStalled when none comes within `idleMs`. */
function readWithin(
  from: ReadableStreamDefaultReader<Uint8Array>,
  idleMs: number,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new BodyStalled(idleMs)), idleMs);
    from.read().then(
      (result) => {
        clearTimeout(timer);
        resolve(result);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(new ChannelFailure('VALIDATION_FAILED', 'The request body was cut short.', { cause: error }));
      },
    );
  });
}

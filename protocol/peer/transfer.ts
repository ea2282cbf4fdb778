import { FILE_ACK_EVERY_BYTES, FILE_CHUNK_BYTES, FILE_WINDOW_BYTES } from '../channels.ts';
import { encodeFileChunk } from '../frames.ts';
import type { ControlMessage } from '../messages.ts';
import type { ResultCode } from '../result-codes.ts';
import { ReceiveWindow, SendWindow } from './flow-control.ts';
import type { Hasher } from './sha256.ts';

/**
 * One windowed, verified file transfer over a channel, the same for the agent, the API, the console
 * and the benchmark. The wire is `file-read`/`file-info` (download) or `file-write`/`file-ready`
 * (upload), then file chunks from the agreed offset, `file-ack`s from the receiver at least every
 * FILE_ACK_EVERY_BYTES, and `file-end` with the size and the SHA-256 of the whole file (so a resumed
 * transfer verifies too). The sender never runs more than FILE_WINDOW_BYTES past the last `file-ack`.
 *
 * {@link FileSender} and {@link FileReceiver} hold the flow control, the order and size checks and
 * the hash; the request and the answers around them (and what to do with the bytes) stay with each
 * side. Failures are {@link TransferError}s carrying the result code a peer is told.
 */

/** What a transfer needs of the connection its channel runs on; every relay client has these. */
export interface TransferLink {
  send(message: ControlMessage): unknown;
  /** Sends an encoded binary frame (here: a file chunk). */
  sendBytes(frame: Uint8Array): unknown;
}

/** What went wrong in a transfer. */
export type TransferFailureKind =
  /** A chunk did not start where the bytes so far end (or came before the size was known). */
  | 'out-of-order'
  /** More bytes than the file's announced size. */
  | 'past-end'
  /** The sender ran further ahead of the last acknowledgement than the window allows. */
  | 'past-window'
  /** `file-end` came before every byte did, or announced another size. */
  | 'short'
  /** The bytes do not hash to the SHA-256 in `file-end`. */
  | 'checksum'
  /** The peer stopped: no acknowledgement (sender) or no chunk (receiver) in time. */
  | 'stalled';

const RESULT_CODE: Record<TransferFailureKind, ResultCode> = {
  'out-of-order': 'MALFORMED',
  'past-end': 'MALFORMED',
  'past-window': 'MALFORMED',
  short: 'CHECKSUM_MISMATCH',
  checksum: 'CHECKSUM_MISMATCH',
  stalled: 'TIMEOUT',
};

/**
 * A transfer that cannot go on; `code` is the result code to tell the peer in `channel-error`.
 * @example
 * try { receiver.verify(end); } catch (error) { if (isTransferError(error)) fail(error.code, error.message); }
 */
export class TransferError extends Error {
  override readonly name = 'TransferError';
  readonly code: ResultCode;
  constructor(
    readonly kind: TransferFailureKind,
    message: string,
  ) {
    super(message);
    this.code = RESULT_CODE[kind];
  }
}

/** True for a {@link TransferError}, optionally of one kind. */
export function isTransferError(error: unknown, kind?: TransferFailureKind): error is TransferError {
  return error instanceof TransferError && (kind === undefined || error.kind === kind);
}

/**
 * Calls `onStall` when `kick` was not called for `ms` milliseconds; a transfer kicks it whenever it
 * makes progress.
 */
export class Watchdog {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(
    readonly ms: number,
    private readonly onStall: () => void,
  ) {}

  /** Progress: the time starts again. */
  kick(): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#stopped = true;
      this.onStall();
    }, this.ms);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}

/** Where a sender's bytes come from: read in order, from the start offset (or 0 to hash a resume's head). */
export interface ChunkSource {
  /** Up to `length` bytes at `offset`; fewer, or none, when the file ended early. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A link whose outgoing queue can fill up: the sender waits for it to drain. */
export interface Congestion {
  congested(): boolean;
  drained(): Promise<void>;
}

export interface FileSenderOptions {
  link: TransferLink;
  channel: number;
  /** The file's size, in bytes. */
  size: number;
  /** Where sending starts: the offset the receiver asked for (a resume starts past 0). */
  start: number;
  source: ChunkSource;
  /**
   * Hashes the whole file as it goes, reading the part before `start` from the source first, for
   * {@link FileSender.end}. Without one, `end` takes a hash computed elsewhere.
   */
  hasher?: Hasher;
  /** Gives up with a `stalled` TransferError when the window stays full this long, in milliseconds. */
  stallMs?: number;
  congestion?: Congestion;
  /** In bytes; the protocol's FILE_WINDOW_BYTES unless a test says otherwise. */
  windowBytes?: number;
}

/** Bytes read at once to hash the part of a file a resumed upload does not send, in bytes. */
const HASH_READ_BYTES = 16 * FILE_CHUNK_BYTES;

/**
 * The sending side: chunks from the start offset, never more than the window past the last
 * acknowledgement, then `file-end`.
 * @example
 * const sender = new FileSender({ link, channel, size: file.size, start: ready.offset, source, hasher: new Sha256() });
 * // on file-ack: sender.ack(message.offset)
 * await sender.run();
 * sender.end();
 */
export class FileSender {
  readonly window: SendWindow;
  #failure: unknown;
  #stopped = false;
  #wake: (() => void) | undefined;

  constructor(private readonly options: FileSenderOptions) {
    this.window = new SendWindow(options.size, options.start, options.windowBytes ?? FILE_WINDOW_BYTES);
  }

  /**
   * Takes a `file-ack`. One past what was sent is a confused peer: it counts only up to what was
   * sent (it never widens the window) and returns false.
   */
  ack(offset: number): boolean {
    const fits = this.window.ack(offset);
    if (!fits) this.window.ack(this.window.sentOffset);
    this.#poke();
    return fits;
  }

  /** Stops sending; {@link run} returns what was sent. */
  stop(): void {
    this.#stopped = true;
    this.#poke();
  }

  /** Stops sending; {@link run} rejects with `error`. */
  abort(error: unknown): void {
    this.#failure ??= error;
    this.stop();
  }

  /**
   * Sends the chunks the window allows until the whole file went out, the source ended early or
   * the sender was stopped; resolves with the offset sending reached. Rejects when a read fails,
   * on {@link abort}, or with a `stalled` TransferError after `stallMs` without an acknowledgement.
   */
  async run(): Promise<number> {
    const { link, channel, source, hasher, congestion } = this.options;
    if (hasher) await this.#hashHead(hasher);
    while (!this.#stopped) {
      const span = this.window.next();
      if (!span) {
        if (this.window.allSent) break;
        await this.#acknowledged();
        continue;
      }
      if (congestion?.congested()) {
        await congestion.drained();
        continue;
      }
      const data = await source.read(span.offset, span.length);
      // A file that shrank while it was read ends early; the size and hash in file-end tell the receiver.
      if (data.byteLength === 0 || this.#stopped) break;
      hasher?.update(data);
      link.sendBytes(encodeFileChunk({ channel, offset: span.offset, data }));
      this.window.sent(data.byteLength);
    }
    if (this.#failure !== undefined) throw this.#failure;
    return this.window.sentOffset;
  }

  /**
   * Sends `file-end` with the size sent and the SHA-256 of the whole file: `sha256` when given,
   * else the hasher's. Returns the hash.
   */
  end(sha256?: string): string {
    const { link, channel, hasher } = this.options;
    const digest = sha256 ?? hasher?.digest('hex');
    if (digest === undefined) throw new TypeError('FileSender.end needs a SHA-256 when it has no hasher');
    link.send({ type: 'file-end', channel, size: this.window.sentOffset, sha256: digest });
    return digest;
  }

  /** Hashes the bytes before the start offset, which the receiver already has. */
  async #hashHead(hasher: Hasher): Promise<void> {
    for (let at = 0; at < this.options.start && !this.#stopped; ) {
      const data = await this.options.source.read(at, Math.min(HASH_READ_BYTES, this.options.start - at));
      if (data.byteLength === 0) break;
      hasher.update(data);
      at += data.byteLength;
    }
  }

  /** Waits for the next acknowledgement (or stop); rejects after `stallMs` without one. */
  #acknowledged(): Promise<void> {
    const { stallMs } = this.options;
    return new Promise<void>((resolve, reject) => {
      const timer =
        stallMs === undefined
          ? undefined
          : setTimeout(
              () =>
                reject(
                  new TransferError('stalled', `The receiver acknowledged nothing for ${stallMs / 1000} s.`),
                ),
              stallMs,
            );
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

export interface FileReceiverOptions {
  link: TransferLink;
  channel: number;
  /** The offset asked for (a resume starts past 0). */
  start: number;
  /** The file's size, in bytes, when known up front (uploads); downloads learn it from `file-info`. */
  size?: number;
  /**
   * Hashes every byte received, for {@link FileReceiver.verify}. Leave it out when the hash cannot
   * cover the file (a resume whose head is not here) or is computed elsewhere.
   */
  hasher?: Hasher;
  /**
   * A chunk that starts before the bytes received so far: a protocol violation (`fail`, the
   * default), or bytes sent again of which only the new part is kept (`skip`).
   */
  repeats?: 'fail' | 'skip';
  /** In bytes; the protocol's FILE_WINDOW_BYTES and FILE_ACK_EVERY_BYTES unless a test says otherwise. */
  windowBytes?: number;
  ackEvery?: number;
}

const NOTHING = new Uint8Array(0);

/**
 * The receiving side: chunks in order, within the size and the window, hashed as they come;
 * `file-ack`s as the bytes are taken (credit), and the check of `file-end`.
 * @example
 * const receiver = new FileReceiver({ link, channel, start: 0, hasher: new Sha256() });
 * receiver.size = info.size;               // on file-info
 * const bytes = receiver.accept(frame);    // on a chunk; throws a TransferError
 * receiver.credit();                       // once the bytes are taken (written, delivered)
 * receiver.verify(end);                    // on file-end; throws a TransferError
 */
export class FileReceiver {
  readonly window: ReceiveWindow;
  /** The file's size, in bytes; chunks are refused until it is known. */
  size: number | undefined;
  readonly #windowBytes: number;

  constructor(private readonly options: FileReceiverOptions) {
    this.window = new ReceiveWindow(options.start, options.ackEvery ?? FILE_ACK_EVERY_BYTES);
    this.size = options.size;
    this.#windowBytes = options.windowBytes ?? FILE_WINDOW_BYTES;
  }

  /** Everything before this offset has arrived. */
  get received(): number {
    return this.window.receivedOffset;
  }

  /** Every byte of the file has arrived. */
  get complete(): boolean {
    return this.size !== undefined && this.window.receivedOffset === this.size;
  }

  /**
   * Checks a chunk and returns its new bytes (all of them, or none or the tail of one sent again
   * when repeats are skipped), hashed. Throws a TransferError for a chunk out of order, before the
   * size is known, past the size, or past the window.
   */
  accept(frame: { offset: number; data: Uint8Array }): Uint8Array {
    const expected = this.window.receivedOffset;
    if (this.size === undefined) {
      throw new TransferError('out-of-order', 'A chunk came before the size of the file.');
    }
    if (frame.offset > expected || (frame.offset < expected && this.options.repeats !== 'skip')) {
      throw new TransferError('out-of-order', `A chunk at ${frame.offset}, expected ${expected}.`);
    }
    const skip = expected - frame.offset;
    if (skip >= frame.data.byteLength) return NOTHING;
    const data = skip > 0 ? frame.data.subarray(skip) : frame.data;
    if (expected + data.byteLength > this.size) {
      throw new TransferError('past-end', `More bytes than the ${this.size} the file holds.`);
    }
    if (expected + data.byteLength - this.window.ackedOffset > this.#windowBytes) {
      throw new TransferError('past-window', 'The sender ran past its window.');
    }
    this.window.accept(frame.offset, frame.data.byteLength);
    this.options.hasher?.update(data);
    return data;
  }

  /**
   * The bytes before `taken` are consumed (written, delivered; by default everything received):
   * acknowledges them once FILE_ACK_EVERY_BYTES built up or the file is complete, which opens the
   * sender's window again.
   */
  credit(taken = this.window.receivedOffset): void {
    if (!this.window.ackDue(this.size, taken)) return;
    const offset = this.window.acknowledge(taken);
    this.options.link.send({ type: 'file-ack', channel: this.options.channel, offset });
  }

  /**
   * Checks `file-end`: every byte of the announced size arrived, and the SHA-256 matches (`sha256`
   * when given, computed elsewhere; else the hasher's; neither: only the size is checked). Throws a
   * TransferError `short` or `checksum`.
   */
  verify(end: { size: number; sha256: string }, sha256?: string): void {
    const received = this.window.receivedOffset;
    if (end.size !== this.size || received !== end.size) {
      throw new TransferError(
        'short',
        `${received} bytes arrived; the sender announced ${end.size} of ${this.size ?? 'unknown'}.`,
      );
    }
    const actual = sha256 ?? this.options.hasher?.digest('hex');
    if (actual !== undefined && actual !== end.sha256) {
      throw new TransferError(
        'checksum',
        'The bytes received do not match the SHA-256 the sender announced.',
      );
    }
  }
}

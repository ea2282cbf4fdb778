import { FILE_ACK_EVERY_BYTES, FILE_CHUNK_BYTES, FILE_WINDOW_BYTES } from '../channels.ts';

/** The next piece of a file to send: where it starts and how long it is, in bytes. */
export interface ChunkSpan {
  offset: number;
  length: number;
}

/**
 * The sending side of a transfer's flow control: it never runs more than `windowBytes` beyond the
 * last offset the receiver acknowledged (the starting offset counts as acknowledged).
 * @example
 * const window = new SendWindow(file.size, ready.offset);
 * for (let span = window.next(); span; span = window.next()) { send(span); window.sent(span.length); }
 * window.ack(message.offset); // then call next() again
 */
export class SendWindow {
  /** Bytes of the file sent so far, counted from its start. */
  sentOffset: number;
  /** The receiver has everything before this offset. */
  ackedOffset: number;

  constructor(
    readonly size: number,
    start: number,
    readonly windowBytes = FILE_WINDOW_BYTES,
    readonly chunkBytes = FILE_CHUNK_BYTES,
  ) {
    this.sentOffset = start;
    this.ackedOffset = start;
  }

  /** The next chunk the window allows, or undefined while it is full or everything was sent. */
  next(): ChunkSpan | undefined {
    const room = this.ackedOffset + this.windowBytes - this.sentOffset;
    const left = this.size - this.sentOffset;
    const length = Math.min(room, left, this.chunkBytes);
    return length > 0 ? { offset: this.sentOffset, length } : undefined;
  }

  /** Records that `length` bytes from {@link sentOffset} went out. */
  sent(length: number): void {
    this.sentOffset += length;
  }

  /**
   * Takes an acknowledgement. Offsets never go backwards; one past what was sent is a broken peer
   * and returns false.
   */
  ack(offset: number): boolean {
    if (offset > this.sentOffset) return false;
    if (offset > this.ackedOffset) this.ackedOffset = offset;
    return true;
  }

  /** Every byte has been sent (the acknowledgements may still be on their way). */
  get allSent(): boolean {
    return this.sentOffset >= this.size;
  }
}

/** What to do with an arriving chunk: keep it from `skip` bytes in, or it is out of order. */
export type ChunkVerdict = { keep: true; skip: number } | { keep: false; gap: boolean };

/**
 * The receiving side: which bytes have arrived in order, and when to acknowledge them (at least
 * every `ackEvery` bytes, and once everything is there).
 * @example
 * const received = new ReceiveWindow(start);
 * const verdict = received.accept(frame.offset, frame.data.byteLength);
 * if (received.ackDue(size)) send({ type: 'file-ack', channel, offset: received.acknowledge() });
 */
export class ReceiveWindow {
  /** Everything before this offset has arrived. */
  receivedOffset: number;
  /** The last offset acknowledged to the sender. */
  ackedOffset: number;

  constructor(
    start: number,
    readonly ackEvery = FILE_ACK_EVERY_BYTES,
  ) {
    this.receivedOffset = start;
    this.ackedOffset = start;
  }

  /**
   * Checks a chunk against what has arrived. A chunk that starts before the received offset (sent
   * again after a resume) is kept from where the new bytes begin; one past it is a gap.
   */
  accept(offset: number, length: number): ChunkVerdict {
    if (offset > this.receivedOffset) return { keep: false, gap: true };
    const skip = this.receivedOffset - offset;
    if (skip >= length) return { keep: false, gap: false };
    this.receivedOffset += length - skip;
    return { keep: true, skip };
  }

  /**
   * Whether an acknowledgement should go out now that the bytes before `taken` are consumed (by
   * default, as soon as they arrive): every `ackEvery` bytes, and once the file of `size` is complete.
   */
  ackDue(size: number | undefined, taken = this.receivedOffset): boolean {
    if (taken <= this.ackedOffset) return false;
    return taken - this.ackedOffset >= this.ackEvery || (size !== undefined && taken >= size);
  }

  /** Marks everything before `taken` as acknowledged and returns the offset to send. */
  acknowledge(taken = this.receivedOffset): number {
    this.ackedOffset = taken;
    return taken;
  }
}

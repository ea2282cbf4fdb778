import { type MessageOf, VIDEO_HEADER_BYTES, type VideoFrame } from '../../../protocol/index.ts';

/**
 * How often the console tells the relay what video it received, at most, in ms (the relay's
 * RECEIPT_INTERVAL_MS says the same): often enough that a queue shows within a few frames.
 */
const RECEIPT_INTERVAL_MS = 100;

/**
 * Counts the video this console received and reports it to the relay (`video-received`), which
 * compares it with what it sent: the difference is video still on the way, and the agent paces its
 * pictures by it. Each receipt also carries the console's own word on whether it keeps up with the
 * pictures (`behind`), when it has one: video piles up behind a busy console as on a thin link, but
 * only the link's pile-up is worth a lower bitrate. A receipt goes out at most every
 * RECEIPT_INTERVAL_MS, and the last one always.
 * @example
 * const receipts = new VideoReceipts((message) => relay.send(message), () => renderer.behind);
 * receipts.add(frame); // for each video frame, as it arrives
 */
export class VideoReceipts {
  #bytes = 0;
  #sentAt = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly send: (message: MessageOf<'video-received'>) => void,
    private readonly behind: () => boolean | undefined = () => undefined,
  ) {}

  /** A video frame arrived. */
  add(frame: VideoFrame): void {
    this.#bytes += VIDEO_HEADER_BYTES + frame.data.byteLength;
    if (this.#timer) return;
    const wait = this.#sentAt + RECEIPT_INTERVAL_MS - performance.now();
    if (wait <= 0) this.#report();
    else this.#timer = setTimeout(() => this.#report(), wait);
  }

  /** A new connection: the relay counts from zero again. */
  reset(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#bytes = 0;
    this.#sentAt = Number.NEGATIVE_INFINITY;
  }

  #report(): void {
    this.#timer = undefined;
    this.#sentAt = performance.now();
    const behind = this.behind();
    this.send({ type: 'video-received', bytes: this.#bytes, ...(behind !== undefined ? { behind } : {}) });
  }
}

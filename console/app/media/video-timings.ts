/**
 * When one picture passed each stage between the agent and the canvas, in ms since the Unix epoch
 * (sub-millisecond from `performance.now()`, so differences with the agent's stamp, taken on the same
 * clock, mean something when both run on one machine).
 */
export interface PictureTimings {
  /** The access unit's sequence number. */
  sequence: number;
  keyframe: boolean;
  /** The agent's send stamp (the frame header's capture time). */
  sent: number;
  /** The unit reached the renderer from the relay socket. */
  received: number;
  /** `decode()` was called with it. */
  decodeCalled: number;
  /** The decoder's output callback ran with its picture. */
  output: number;
  /**
   * The picture is ready to draw on the page: turned into RGBA pixels in the video worker, or
   * equal to `output` where the page decodes and draws the decoder's picture itself.
   */
  converted: number;
  /** The picture is drawn on the canvas (`drawImage` or `putImageData` returned). */
  drawn: number;
}

/** Pictures kept; older ones are overwritten. About half a minute at 30 pictures a second. */
const CAPACITY = 1024;

declare global {
  interface Window {
    /** The last pictures' stage stamps, for the benchmark (bench/viewers/) and the tests. */
    lifelineVideoTimings?: VideoTimings;
  }
}

/** The current time in ms since the Unix epoch, with `performance.now()`'s resolution. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A ring of the last drawn pictures' stage stamps. Nothing is logged per picture: a reader takes the
 * pictures drawn since its last read.
 * @example
 * const pictures = window.lifelineVideoTimings?.take() ?? [];
 * const decoding = pictures.map((p) => p.output - p.decodeCalled);
 */
export class VideoTimings {
  readonly #ring: PictureTimings[] = [];
  #next = 0;
  #unread = 0;

  /** Publishes this ring as `window.lifelineVideoTimings`. */
  publish(): this {
    window.lifelineVideoTimings = this;
    return this;
  }

  add(picture: PictureTimings): void {
    this.#ring[this.#next] = picture;
    this.#next = (this.#next + 1) % CAPACITY;
    this.#unread = Math.min(this.#unread + 1, CAPACITY);
  }

  /** The pictures drawn since the last call, oldest first. */
  take(): PictureTimings[] {
    const out: PictureTimings[] = [];
    for (let i = this.#unread; i > 0; i--) {
      const picture = this.#ring[(this.#next - i + CAPACITY) % CAPACITY];
      if (picture) out.push(picture);
    }
    this.#unread = 0;
    return out;
  }
}

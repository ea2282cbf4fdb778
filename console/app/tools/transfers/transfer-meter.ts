/** How far back the rate looks, in ms: long enough to smooth bursts, short enough to follow changes. */
const RATE_WINDOW_MS = 5000;
/** The rate needs samples spanning at least this long before it means anything, in ms. */
const MIN_SPAN_MS = 500;

interface Sample {
  at: number;
  bytes: number;
}

/**
 * The speed of one transfer over the last few seconds, and the time left at that speed.
 * @example
 * const meter = new TransferMeter();
 * meter.record(received, performance.now());
 * meter.rate(performance.now()); // bytes per second, or null before there is enough to tell
 */
export class TransferMeter {
  readonly #samples: Sample[] = [];

  constructor(readonly windowMs = RATE_WINDOW_MS) {}

  /** Records the bytes done so far (a running total) at time `at` in ms. */
  record(bytes: number, at: number): void {
    const last = this.#samples.at(-1);
    // A resume can start below the last total (an upload's part file was shorter); start over.
    if (last && bytes < last.bytes) this.#samples.length = 0;
    this.#samples.push({ at, bytes });
    while (this.#samples.length > 2 && this.#samples[1]!.at < at - this.windowMs) this.#samples.shift();
  }

  /** Forgets the history, for a transfer that paused (a dropped connection) and will resume. */
  reset(): void {
    this.#samples.length = 0;
  }

  /** Bytes per second over the window, or null until samples span {@link MIN_SPAN_MS}. */
  rate(now: number): number | null {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last) return null;
    const span = Math.max(now, last.at) - first.at;
    if (span < MIN_SPAN_MS) return null;
    return ((last.bytes - first.bytes) * 1000) / span;
  }
}

/**
 * Seconds left to move `remaining` bytes at `rate` bytes per second, rounded up; null when the
 * rate is unknown or zero (a stalled transfer has no honest estimate).
 * @example
 * etaSeconds(10_000_000, 2_000_000) // 5
 */
export function etaSeconds(remaining: number, rate: number | null): number | null {
  if (remaining <= 0) return 0;
  if (rate === null || rate <= 0) return null;
  return Math.ceil(remaining / rate);
}

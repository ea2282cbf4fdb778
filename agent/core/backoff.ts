/**
 * Growing pauses between reconnection attempts: the first pause, then twice the previous one up to
 * a ceiling; `reset` once a connection was welcomed.
 *
 * @example
 * const backoff = new Backoff(250, 4_000);
 * await sleep(backoff.next()); // 250, 500, 1000, 2000, 4000, 4000, …
 */
export class Backoff {
  private pause: number;

  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
  ) {
    this.pause = firstMs;
  }

  /** The pause to wait before the next attempt, in milliseconds. */
  next(): number {
    const pause = this.pause;
    this.pause = Math.min(pause * 2, this.maxMs);
    return pause;
  }

  reset(): void {
    this.pause = this.firstMs;
  }
}

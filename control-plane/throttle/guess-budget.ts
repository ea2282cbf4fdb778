import type { ThrottleVerdict } from './guess-throttle.ts';

export interface GuessBudgetOptions {
  /** Guesses that may be spent at once, after a quiet spell. */
  capacity: number;
  /** One guess comes back per this many milliseconds: the highest sustained rate. */
  refillEveryMs: number;
  now: () => number;
}

/**
 * A shared allowance of wrong guesses (a token bucket): `capacity` at most, one more back every
 * `refillEveryMs`. Unlike a growing delay it never forgets a flood: however many addresses guess,
 * the long-run rate is one guess per `refillEveryMs`.
 *
 * Take a guess before checking it (so a burst sent at once is counted), give it back when it was right.
 *
 * @example
 * const verdict = budget.take();
 * if (!verdict.allowed) throw tooFrequent(verdict.retryAfterMs);
 * if (await isRight(guess)) budget.giveBack();
 */
export class GuessBudget {
  private readonly options: GuessBudgetOptions;
  /**
   * When the budget would be full again if nothing more were spent (the generic cell rate
   * algorithm's "theoretical arrival time"): whole milliseconds, so no rounding drifts.
   */
  private fullAt: number;

  constructor(options: Omit<GuessBudgetOptions, 'now'> & { now?: () => number }) {
    this.options = { now: Date.now, ...options };
    this.fullAt = this.options.now();
  }

  /** Spends one guess, or says how long until one is back. */
  take(): ThrottleVerdict {
    const { capacity, refillEveryMs, now } = this.options;
    const at = now();
    const fullAt = Math.max(this.fullAt, at) + refillEveryMs;
    const over = fullAt - at - capacity * refillEveryMs;
    if (over > 0) return { allowed: false, retryAfterMs: over };
    this.fullAt = fullAt;
    return { allowed: true };
  }

  /** Returns a guess that turned out right: only wrong guesses use the budget up. */
  giveBack(): void {
    this.fullAt = Math.max(this.options.now(), this.fullAt - this.options.refillEveryMs);
  }
}

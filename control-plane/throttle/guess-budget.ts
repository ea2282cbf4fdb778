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
  private tokens: number;
  private updatedAt: number;

  constructor(options: Omit<GuessBudgetOptions, 'now'> & { now?: () => number }) {
    this.options = { now: Date.now, ...options };
    this.tokens = options.capacity;
    this.updatedAt = this.options.now();
  }

  /** Spends one guess, or says how long until one is back. */
  take(): ThrottleVerdict {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.ceil((1 - this.tokens) * this.options.refillEveryMs) };
  }

  /** Returns a guess that turned out right: only wrong guesses use the budget up. */
  giveBack(): void {
    this.refill();
    this.tokens = Math.min(this.options.capacity, this.tokens + 1);
  }

  private refill(): void {
    const now = this.options.now();
    const earned = (now - this.updatedAt) / this.options.refillEveryMs;
    this.tokens = Math.min(this.options.capacity, this.tokens + earned);
    this.updatedAt = now;
  }
}

export interface GuessThrottleOptions {
  /** Failures allowed before any delay applies. */
  freeFailures: number;
  /** Delay after the first failure past the free ones, in milliseconds; doubles with each further failure. */
  baseDelayMs: number;
  /** Upper bound of the delay, in milliseconds. */
  maxDelayMs: number;
  /** Failures older than this are forgotten, in milliseconds. */
  windowMs: number;
  /** Upper bound on tracked keys, so a flood of addresses cannot grow memory without limit. */
  maxKeys: number;
  now: () => number;
}

interface Entry {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

const DEFAULTS: GuessThrottleOptions = {
  freeFailures: 3,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  windowMs: 15 * 60_000,
  maxKeys: 100_000,
  now: Date.now,
};

/**
 * Growing delays after failed guesses (connection codes, passwords), per key. Call `check` before the
 * attempt, then `fail` or `succeed` after it.
 *
 * @example
 * const verdict = throttle.check(address);
 * if (!verdict.allowed) throw tooFrequent(verdict.retryAfterMs);
 */
export class GuessThrottle {
  private readonly options: GuessThrottleOptions;
  private readonly entries = new Map<string, Entry>();

  constructor(options: Partial<GuessThrottleOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  check(key: string): ThrottleVerdict {
    const entry = this.current(key);
    const now = this.options.now();
    if (entry && entry.blockedUntil > now) return { allowed: false, retryAfterMs: entry.blockedUntil - now };
    return { allowed: true };
  }

  fail(key: string): void {
    const now = this.options.now();
    const entry = this.current(key) ?? { failures: 0, lastFailureAt: now, blockedUntil: 0 };
    entry.failures += 1;
    entry.lastFailureAt = now;
    this.block(entry, now);
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.options.maxKeys) {
      // Map iteration order is insertion order: the first key is the least recently failed one.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  /**
   * Starts a key's current delay again from now. A failure counted before a slow check (a password
   * hash) would otherwise have its delay partly spent by the time the caller gets the answer.
   */
  restartDelay(key: string): void {
    const entry = this.current(key);
    if (entry) this.block(entry, this.options.now());
  }

  /** Past the free failures, blocks for the base delay doubled per further failure, up to the cap. */
  private block(entry: Entry, now: number): void {
    const over = entry.failures - this.options.freeFailures;
    if (over > 0) {
      entry.blockedUntil =
        now + Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (over - 1));
    }
  }

  /** Whether the key has a failure not yet forgotten. */
  hasFailed(key: string): boolean {
    return this.current(key) !== undefined;
  }

  /**
   * Takes back one failure counted in advance for an attempt that turned out right, leaving the
   * others: a right answer among wrong ones does not wipe them.
   */
  forgive(key: string): void {
    const entry = this.current(key);
    if (!entry) return;
    entry.failures -= 1;
    if (entry.failures <= 0) this.entries.delete(key);
    else if (entry.failures <= this.options.freeFailures) entry.blockedUntil = 0;
  }

  succeed(key: string): void {
    this.entries.delete(key);
  }

  private current(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && this.options.now() - entry.lastFailureAt > this.options.windowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}

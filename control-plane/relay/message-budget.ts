/** Messages that make the server write (audit rows, log lines) a connection may send in a burst. */
export const WRITE_BURST = 300;
/** How many such messages a connection may send per second, sustained. */
export const WRITES_PER_SECOND = 20;
/**
 * Dropped messages a connection may accumulate (refilled at WRITES_PER_SECOND) before it is closed:
 * a burst is dropped, a persistent flood ends the connection.
 */
export const DROP_BURST = 1_000;

/** What to do with one message: pass it on, drop it, or close the connection that keeps flooding. */
export type BudgetVerdict = 'pass' | 'drop' | 'close';

/** A token bucket: `capacity` tokens, refilled at `perSecond`. */
class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.at = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * What one relay connection may make the server write: a token bucket per connection. Past it,
 * messages are dropped and counted; a connection that goes on past a second bucket of drops is told
 * to close.
 * @example
 * const verdict = budget.take();
 * if (verdict === 'close') peer.close(CloseCode.flood, 'TOO_FREQUENT');
 * if (verdict !== 'pass') return;
 */
export class MessageBudget {
  /** Messages dropped on this connection. */
  dropped = 0;
  private readonly writes: TokenBucket;
  private readonly drops: TokenBucket;

  constructor(
    options: { burst?: number; perSecond?: number; dropBurst?: number } = {},
    now: number = Date.now(),
  ) {
    const perSecond = options.perSecond ?? WRITES_PER_SECOND;
    this.writes = new TokenBucket(options.burst ?? WRITE_BURST, perSecond, now);
    this.drops = new TokenBucket(options.dropBurst ?? DROP_BURST, perSecond, now);
  }

  take(now: number = Date.now()): BudgetVerdict {
    if (this.writes.take(now)) return 'pass';
    this.dropped++;
    return this.drops.take(now) ? 'drop' : 'close';
  }
}

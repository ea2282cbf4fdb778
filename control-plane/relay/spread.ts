/**
 * A delay made slightly longer at random (up to a tenth, at most `maxExtraMs`), so that timers set
 * together (thousands of agents of one site dropping at once) do not all fire in the same tick.
 */
export function spreadDelay(ms: number, maxExtraMs = 5_000): number {
  return ms + Math.random() * Math.min(ms / 10, maxExtraMs);
}

/**
 * Runs tasks at most `limit` at a time, in order, starting at most one in each turn of the event
 * loop. The relay's session-end writes and the device hub's offline writes go through one: libSQL on
 * a local file answers at once (its work is synchronous behind a promise), so a thousand sockets
 * closing together would otherwise write a thousand rows in one stretch, and no socket, timer or
 * request would be served until the last.
 *
 * @example
 * const writes = new TaskQueue(4);
 * await writes.run(() => store.markEnded(id, reason));
 */
export class TaskQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
    try {
      return await task();
    } finally {
      this.running--;
      this.schedule();
    }
  }

  /** Starts the next task waiting in a later turn, when a slot is free. */
  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0 || this.running >= this.limit) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const next = this.waiting.shift();
      if (next) {
        this.running++;
        next();
      }
      this.schedule();
    });
  }
}

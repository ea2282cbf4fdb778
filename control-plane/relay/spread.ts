/**
 * A delay made slightly longer at random (up to a tenth, at most `maxExtraMs`), so that timers set
 * together (thousands of agents of one site dropping at once) do not all fire in the same tick.
 */
export function spreadDelay(ms: number, maxExtraMs = 5_000): number {
  return ms + Math.random() * Math.min(ms / 10, maxExtraMs);
}

/**
 * Runs tasks at most `limit` at a time, in order; the others wait their turn, each started in a
 * later turn of the event loop. The relay's session-end writes go through one, so a mass disconnect
 * queues its database writes, with sockets and requests served between them, instead of firing
 * them all at once.
 *
 * @example
 * const writes = new TaskQueue(4);
 * await writes.run(() => store.markEnded(id, reason));
 */
export class TaskQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      // The slot passes to the next task waiting, or is given back. The next task starts in a later
      // turn of the event loop: a database client that answers at once (libSQL on a local file does
      // its work synchronously) would otherwise run a mass disconnect's thousand writes in one
      // stretch of microtasks, and no socket, timer or request would be served until the last.
      const next = this.waiting.shift();
      if (next) setImmediate(next);
      else this.running--;
    }
  }
}

/**
 * The shells and commands still running, each with the function that stops it, so the agent can
 * stop every one of them as it exits, whatever path the exit takes.
 */
export class LiveProcesses {
  private readonly stops = new Set<() => void>();

  /** Registers a running process; call the returned function when it has exited. */
  add(stop: () => void): () => void {
    this.stops.add(stop);
    return () => this.stops.delete(stop);
  }

  get size(): number {
    return this.stops.size;
  }

  /** Stops every process still running (synchronous, for an `exit` handler). */
  stopAll(): void {
    for (const stop of [...this.stops]) {
      try {
        stop();
      } catch {
        // Already gone.
      }
    }
    this.stops.clear();
  }
}

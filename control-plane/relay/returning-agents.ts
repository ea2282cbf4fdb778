import { spreadDelay } from './spread.ts';

interface Waiting {
  timer: ReturnType<typeof setTimeout>;
  /** Set once the deadline passed and the session is being ended. */
  ending: Promise<void> | undefined;
}

/**
 * Sessions a previous run of this node left open, each waiting until its deadline for its agent to
 * come back after a restart of the control plane; `expire` ends those whose agent does not.
 *
 * @example
 * const returning = new ReturningAgents((id) => endSession(id, 'server-restart'));
 * returning.wait(sessionId, 30_000);
 * // later, when that session's agent says hello again:
 * await returning.arrived(sessionId);
 */
export class ReturningAgents {
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly expire: (sessionId: string) => Promise<void>) {}

  /** Starts a session's deadline. */
  wait(sessionId: string, graceMs: number): void {
    const entry: Waiting = {
      timer: setTimeout(() => {
        entry.ending = this.expire(sessionId).finally(() => this.waiting.delete(sessionId));
      }, spreadDelay(graceMs)),
      ending: undefined,
    };
    this.waiting.set(sessionId, entry);
  }

  /** Whether the session is waiting for its agent. */
  has(sessionId: string): boolean {
    return this.waiting.has(sessionId);
  }

  /**
   * The session's agent is back: its deadline is cancelled. When the deadline has just passed, this
   * resolves once the session has ended, so the caller reads it as ended and refuses the agent.
   */
  async arrived(sessionId: string): Promise<void> {
    const entry = this.waiting.get(sessionId);
    if (!entry) return;
    if (entry.ending) {
      await entry.ending;
      return;
    }
    clearTimeout(entry.timer);
    this.waiting.delete(sessionId);
  }

  /** Cancels every deadline (on shutdown: the next start sets them again). */
  clear(): void {
    for (const entry of this.waiting.values()) clearTimeout(entry.timer);
    this.waiting.clear();
  }
}

import { randomBytes } from 'node:crypto';
import { type SystemShell, systemShell } from './system-shell.ts';

/** The environment variable that marks every process a shell or command of this agent started. */
export const PROCESS_MARK_VARIABLE = 'LIFELINE_AGENT_RUN';

/** The mark of one shell or command: what its environment gets, and how to end all it started. */
export interface ProcessMark {
  /** Add to the environment of the shell or command; its children inherit it. */
  readonly env: Record<string, string>;
  /** Kills every process that still carries this mark, and what is below `roots`; see `SystemShell.sweep`. */
  sweep(roots?: readonly number[]): void;
}

/**
 * The shells and commands still running, each with the function that stops it, so the agent can
 * stop every one of them as it exits, whatever path the exit takes.
 *
 * Each shell or command also gets a mark in its environment, `LIFELINE_AGENT_RUN=<run>:<n>`, with
 * a random token for this run of the agent: a process that left the process group and the session
 * (`nohup`, `setsid`, a double fork) keeps it, so the agent finds what one shell started when that
 * shell ends, and everything any of them started when the agent ends.
 */
export class LiveProcesses {
  private readonly stops = new Set<() => void>();
  private readonly run = randomBytes(12).toString('hex');
  private marks = 0;

  constructor(private readonly system: SystemShell = systemShell()) {}

  /** A new mark for one shell or command. */
  mark(): ProcessMark {
    const value = `${this.run}:${++this.marks}`;
    const entry = `${PROCESS_MARK_VARIABLE}=${value}`;
    return {
      env: { [PROCESS_MARK_VARIABLE]: value },
      sweep: (roots = []) => void this.system.sweep(entry, roots),
    };
  }

  /** Registers a running process; call the returned function when it has exited. */
  add(stop: () => void): () => void {
    this.stops.add(stop);
    return () => this.stops.delete(stop);
  }

  get size(): number {
    return this.stops.size;
  }

  /** Stops every process still running, and every process any of them started (synchronous, for an `exit` handler). */
  stopAll(): void {
    for (const stop of [...this.stops]) {
      try {
        stop();
      } catch {
        // Already gone.
      }
    }
    this.stops.clear();
    this.system.sweep(`${PROCESS_MARK_VARIABLE}=${this.run}`, []);
  }
}

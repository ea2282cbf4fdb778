import { readdirSync, readFileSync } from 'node:fs';

/** Scans of the process table before giving up on processes that keep appearing. */
const SWEEP_ROUNDS = 50;
/** Pause between scans once a kill did not clear everything, in milliseconds (SIGKILL is delivered asynchronously). */
const SWEEP_PAUSE_MS = 20;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread: the sweep must also run inside an `exit` handler, where nothing async runs. */
function pause(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

interface ProcessEntry {
  pid: number;
  ppid: number;
}

/** Every live process (zombies left out: they are dead and cannot fork). */
function processTable(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // Exited since readdir.
    }
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after the last `)`.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z' || state === 'X') continue;
    entries.push({ pid: Number(name), ppid: Number(ppid) });
  }
  return entries;
}

/** Whether the process was started with `mark`, or a mark under it (`mark:…`), in its environment. */
function carriesMark(pid: number, mark: string): boolean {
  let environ: string;
  try {
    // Readable for processes of this user (and all for root); the environment a process was started
    // with stays there whatever it does to its process group, session or parent.
    environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return false;
  }
  return environ.split('\0').some((entry) => entry === mark || entry.startsWith(`${mark}:`));
}

/** The processes to kill: those carrying `mark`, and everything still below one of `roots`. */
function marked(mark: string, roots: readonly number[]): number[] {
  const table = processTable();
  const found = new Set<number>();
  const children = new Map<number, number[]>();
  for (const { pid, ppid } of table) {
    const siblings = children.get(ppid);
    if (siblings) siblings.push(pid);
    else children.set(ppid, [pid]);
    if (carriesMark(pid, mark)) found.add(pid);
  }
  // The tree catches what cleared its environment, as long as it has not left the tree as well.
  const alive = new Set(table.map((entry) => entry.pid));
  const pending = roots.filter((pid) => alive.has(pid));
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    found.add(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  found.delete(process.pid);
  found.delete(1);
  return [...found];
}

/**
 * Kills, with SIGKILL and scan after scan until none is left, every process whose environment
 * carries the environment entry `mark` (`NAME=value`, or `NAME=value:…` below it) and every
 * descendant of `roots`. A detached process (`&`, `nohup`, `setsid`, a double fork, a daemon in its
 * own group) keeps the environment it was started with, so it is found however it left. Returns how
 * many were still there after the last round (0 unless they fork faster than they die).
 *
 * Synchronous on purpose: it is what the agent's `exit` handler runs last.
 */
export function sweepMarked(mark: string, roots: readonly number[] = []): number {
  // Another user's process (a setuid program below a shell) cannot be killed; it is not retried.
  const refused = new Set<number>();
  const left = () => marked(mark, roots).filter((pid) => !refused.has(pid));
  for (let round = 0; round < SWEEP_ROUNDS; round++) {
    const found = left();
    if (found.length === 0) return 0;
    for (const pid of found) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EPERM') refused.add(pid);
      }
    }
    if (round > 0) pause(SWEEP_PAUSE_MS);
  }
  return left().length;
}

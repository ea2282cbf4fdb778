import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { isAlive, type Spawned, spawnCollecting } from '../../tests/support/processes.ts';

/** How long a process gets after SIGTERM before the rest of its tree is sent SIGKILL, in ms. */
const STOP_GRACE_MS = 3_000;
/** Output kept per process to explain a failure, in characters. */
const OUTPUT_TAIL_CHARS = 4_000;

/** A process the benchmark started, stopped with everything it started in turn. */
export interface Managed {
  name: string;
  pid: number;
  /** The last few KB of its stdout and stderr. */
  output(): string;
  exited: Promise<number | null>;
  /** Writes a line to its standard input. */
  writeLine(line: string): void;
  /** Calls `listener` with each line the process writes to stdout from now on; returns an unsubscribe. */
  onLine(listener: (line: string) => void): () => void;
  /** SIGTERM, then SIGKILL for whatever is left of its process tree; resolves once all of it is gone. */
  stop(): Promise<void>;
}

const running = new Set<Managed>();
/** Every pid the benchmark started or saw started under one of its processes. */
const seen = new Set<number>();

/**
 * Starts a process and remembers it, so `stopAll` (and the exit handler) can end it and its
 * children even when a part fails halfway.
 *
 * @example
 * const x11vnc = startProcess('x11vnc', 'x11vnc', ['-display', ':5', '-localhost'], process.env);
 * await x11vnc.stop();
 */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Managed {
  const spawned: Spawned = spawnCollecting(command, args, env);
  const pid = spawned.child.pid;
  if (pid === undefined) throw new Error(`could not start ${name} (${command}): is it installed?`);
  seen.add(pid);
  const lineListeners = new Set<(line: string) => void>();
  if (spawned.child.stdout) {
    createInterface({ input: spawned.child.stdout }).on('line', (line) => {
      for (const listener of lineListeners) listener(line);
    });
  }
  let stopping: Promise<void> | undefined;
  const managed: Managed = {
    name,
    pid,
    output: () => spawned.output().slice(-OUTPUT_TAIL_CHARS),
    exited: spawned.exited,
    writeLine: (line) => {
      if (spawned.child.stdin?.writable) spawned.child.stdin.write(`${line}\n`);
    },
    onLine: (listener) => {
      lineListeners.add(listener);
      return () => lineListeners.delete(listener);
    },
    stop: () => {
      stopping ??= stopTree(pid, spawned.exited).finally(() => running.delete(managed));
      return stopping;
    },
  };
  running.add(managed);
  return managed;
}

async function stopTree(pid: number, exited: Promise<number | null>): Promise<void> {
  // Collected before the root goes: once it exits its orphans are re-parented and lost from view.
  const tree = processTree(pid);
  for (const child of tree) seen.add(child);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_GRACE_MS));
  if ((await Promise.race([exited, timeout])) === 'timeout') killQuietly(pid);
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS))]);
  const deadline = Date.now() + STOP_GRACE_MS;
  for (const child of tree) {
    if (child === pid) continue;
    if (isAlive(child)) killQuietly(child, 'SIGTERM');
  }
  while (tree.some((child) => isAlive(child)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const child of tree) if (isAlive(child)) killQuietly(child);
}

function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Stops every process still running, newest first. */
export async function stopAll(): Promise<void> {
  for (const managed of [...running].reverse()) await managed.stop();
}

/** Pids the benchmark started (or found under them) that are still alive; empty after a clean run. */
export function leftovers(): number[] {
  return [...seen].filter((pid) => isAlive(pid));
}

/** Remembers the current process tree under `pid`, so `leftovers()` also watches the children. */
export function track(pid: number): void {
  for (const member of processTree(pid)) seen.add(member);
}

process.once('exit', () => {
  // Last resort after a crash: nothing the benchmark started may outlive it.
  for (const pid of seen) if (isAlive(pid)) killQuietly(pid);
});

/** `pid` and all its descendants, read from /proc (every thread's children file). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const current = out[i]!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${current}/task/${task}/children`, 'utf8').trim();
        for (const child of children.split(/\s+/).filter(Boolean)) out.push(Number(child));
      } catch {
        // The thread ended meanwhile.
      }
    }
  }
  return out;
}

let clockTicks: number | undefined;

/** Kernel clock ticks per second (`getconf CLK_TCK`), the unit of /proc/<pid>/stat times. */
function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

/** User plus system CPU seconds a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may hold spaces: fields are counted after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, so 11 and 12 after the name.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return 0;
  }
}

/** A CPU meter over a set of processes, sampled at the start and end of a measurement window. */
export class CpuMeter {
  #pids: () => number[];
  #start = new Map<number, number>();
  #at = 0;

  /** `pids` is read at each sample, so children started meanwhile count from when they appear. */
  constructor(pids: () => number[]) {
    this.#pids = pids;
  }

  start(): void {
    this.#at = performance.now();
    this.#start = new Map(this.#pids().map((pid) => [pid, cpuSeconds(pid)]));
  }

  /** CPU seconds per wall-clock second since `start()` (1.0 = one core busy). */
  sample(): number {
    return Object.values(this.sampleByName()).reduce((total, value) => total + value, 0);
  }

  /** The same, per command name (`node`, `ffmpeg`, …), to see where the time goes. */
  sampleByName(): Record<string, number> {
    const seconds = (performance.now() - this.#at) / 1000;
    const out: Record<string, number> = {};
    if (seconds <= 0) return out;
    for (const pid of this.#pids()) {
      const used = cpuSeconds(pid) - (this.#start.get(pid) ?? 0);
      const name = commandName(pid);
      out[name] = (out[name] ?? 0) + used / seconds;
    }
    return out;
  }
}

/** The kernel's short name of a process (/proc/<pid>/comm). */
export function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return String(pid);
  }
}

/** Resident memory of a process in bytes, from /proc/<pid>/status; 0 once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

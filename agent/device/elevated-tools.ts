import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  type EndProcessOrder,
  type ListProcessesOrder,
  MAX_LISTED_PROCESSES,
  type OrderResult,
  type ProcessInfo,
} from '../../protocol/index.ts';

const run = promisify(execFile);

/** How long a process has to end after SIGTERM before it gets SIGKILL, in milliseconds. */
export const END_PROCESS_GRACE_MS = 5_000;

/** `ps` columns per platform: pid, user, cpu %, resident KiB, command name (last: it may hold spaces). */
const PS_ARGS: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: ['-eo', 'pid=,user:32=,pcpu=,rss=,comm='],
  darwin: ['-axo', 'pid=,user=,%cpu=,rss=,comm='],
};

const NOT_HERE: Extract<OrderResult, { ok: false }> = {
  ok: false,
  code: 'NOT_SUPPORTED',
  message: `The task manager is not available on ${process.platform} yet.`,
};

/** Every process `ps` shows, as the resident service sees them. */
async function allProcesses(): Promise<ProcessInfo[] | undefined> {
  const args = PS_ARGS[process.platform];
  if (!args) return undefined;
  const { stdout } = await run('ps', args, { maxBuffer: 16 * 1024 * 1024 });
  const processes: ProcessInfo[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^\s*(\d+)\s+(\S+)\s+([\d.]+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    processes.push({
      pid: Number(match[1]),
      user: match[2]!.slice(0, 64),
      cpu: Number(match[3]),
      memoryKiB: Number(match[4]),
      name: match[5]!.trim().slice(0, 100),
    });
  }
  return processes;
}

/** The device's processes whose name contains the order's `name`, busiest first, at most the bound. */
export async function listProcesses(order: ListProcessesOrder): Promise<OrderResult> {
  try {
    const processes = await allProcesses();
    if (!processes) return NOT_HERE;
    const wanted = order.name?.toLowerCase();
    const matching = wanted ? processes.filter((p) => p.name.toLowerCase().includes(wanted)) : processes;
    matching.sort((a, b) => b.cpu - a.cpu || b.memoryKiB - a.memoryKiB);
    return {
      ok: true,
      detail: { processes: matching.slice(0, MAX_LISTED_PROCESSES), total: matching.length },
    };
  } catch (error) {
    return { ok: false, code: 'INTERNAL', message: `ps failed: ${(error as Error).message}`.slice(0, 500) };
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Ends the order's process: SIGTERM, then SIGKILL when it still runs after
 * {@link END_PROCESS_GRACE_MS}. Refuses pid 1 and the resident service itself.
 */
export async function endProcess(
  order: EndProcessOrder,
  graceMs = END_PROCESS_GRACE_MS,
): Promise<OrderResult> {
  const { pid } = order;
  if (pid === 1 || pid === process.pid)
    return { ok: false, code: 'CONFLICT', message: `Process ${pid} is not one the task manager ends.` };
  const processes = await allProcesses().catch(() => undefined);
  if (!processes) return NOT_HERE;
  const target = processes.find((p) => p.pid === pid);
  if (!target || !alive(pid)) return { ok: false, code: 'NOT_FOUND', message: `No process ${pid}.` };
  try {
    process.kill(pid, 'SIGTERM');
    for (const deadline = Date.now() + graceMs; Date.now() < deadline; await sleep(100)) {
      if (!alive(pid)) return { ok: true, detail: { pid, name: target.name, signal: 'SIGTERM' } };
    }
    process.kill(pid, 'SIGKILL');
    return { ok: true, detail: { pid, name: target.name, signal: 'SIGKILL' } };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return { ok: true, detail: { pid, name: target.name, signal: 'SIGTERM' } };
    return {
      ok: false,
      code: code === 'EPERM' ? 'FORBIDDEN' : 'INTERNAL',
      message: `Process ${pid} could not be ended: ${(error as Error).message}`.slice(0, 500),
    };
  }
}

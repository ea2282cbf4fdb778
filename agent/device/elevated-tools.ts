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
import { parseCsvLine, parseWmicTable, runTool } from './windows-commands.ts';

const run = promisify(execFile);

/** How long tasklist, wmic or taskkill may take, in milliseconds. */
const WINDOWS_TOOL_TIMEOUT_MS = 60_000;

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

/** A `Mem Usage` of tasklist (`12,345 K`, the separator as the locale writes it) in KiB. */
const kibOf = (text: string | undefined) => Number((text ?? '').replace(/\D/g, '')) || 0;

/**
 * The processes of `tasklist /v /fo csv /nh` (image name, pid, session name, session, memory,
 * status, user, cpu time, window title; the cpu is a time, not a share: reported as 0).
 */
export function parseTasklist(text: string): ProcessInfo[] {
  return text.split('\n').flatMap((line) => {
    const [name, pid, , , memory, , user] = parseCsvLine(line);
    if (!name || !/^\d+$/.test(pid ?? '')) return [];
    const who = user && user !== 'N/A' ? user : '';
    return [
      {
        pid: Number(pid),
        name: name.slice(0, 100),
        user: who.slice(0, 64),
        cpu: 0,
        memoryKiB: kibOf(memory),
      },
    ];
  });
}

/** The processes of `wmic path Win32_Process get Name,ProcessId,WorkingSetSize` (bytes); no user. */
export function parseWmicProcesses(text: string): ProcessInfo[] {
  return parseWmicTable(text).flatMap((row) => {
    const pid = row['ProcessId'] ?? row['ProcessID'] ?? '';
    if (!row['Name'] || !/^\d+$/.test(pid)) return [];
    const bytes = Number(row['WorkingSetSize']) || 0;
    return [
      {
        pid: Number(pid),
        name: row['Name'].slice(0, 100),
        user: '',
        cpu: 0,
        memoryKiB: Math.round(bytes / 1024),
      },
    ];
  });
}

/**
 * Windows: `tasklist`, which names each process's user; where it lists nothing (Wine's is a stub),
 * `wmic`'s Win32_Process.
 */
async function windowsProcesses(): Promise<ProcessInfo[]> {
  const listed = await runTool('tasklist', ['/v', '/fo', 'csv', '/nh'], WINDOWS_TOOL_TIMEOUT_MS);
  const processes = listed.status === 0 ? parseTasklist(listed.stdout) : [];
  if (processes.length > 0) return processes;
  const wmic = await runTool(
    'wmic',
    ['path', 'Win32_Process', 'get', 'Name,ProcessId,WorkingSetSize'],
    WINDOWS_TOOL_TIMEOUT_MS,
  );
  if (wmic.status !== 0) throw new Error(`tasklist and wmic failed: ${(wmic.stderr || wmic.stdout).trim()}`);
  return parseWmicProcesses(wmic.stdout);
}

/** Every process `ps` (or, on Windows, tasklist) shows, as the resident service sees them. */
async function allProcesses(): Promise<ProcessInfo[] | undefined> {
  if (process.platform === 'win32') return windowsProcesses();
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
    const message = `Listing the processes failed: ${(error as Error).message}`;
    return { ok: false, code: 'INTERNAL', message: message.slice(0, 500) };
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

/** Pids the task manager never ends: init, and on Windows the idle process and System. */
const PROTECTED_PIDS = process.platform === 'win32' ? [0, 4] : [1];

/**
 * Asks a process to end politely: SIGTERM; on Windows `taskkill /pid` (a close request to its
 * windows), since Node's signals there terminate at once.
 */
async function askToEnd(pid: number): Promise<void> {
  if (process.platform !== 'win32') {
    process.kill(pid, 'SIGTERM');
    return;
  }
  await runTool('taskkill', ['/pid', String(pid)], WINDOWS_TOOL_TIMEOUT_MS);
}

/**
 * Ends the order's process: SIGTERM (on Windows a close request, `taskkill`), then SIGKILL (on
 * Windows TerminateProcess) when it still runs after {@link END_PROCESS_GRACE_MS}. Refuses pid 1
 * (on Windows 0 and 4) and the resident service itself.
 */
export async function endProcess(
  order: EndProcessOrder,
  graceMs = END_PROCESS_GRACE_MS,
): Promise<OrderResult> {
  const { pid } = order;
  if (PROTECTED_PIDS.includes(pid) || pid === process.pid)
    return { ok: false, code: 'CONFLICT', message: `Process ${pid} is not one the task manager ends.` };
  const processes = await allProcesses().catch(() => undefined);
  if (!processes) return NOT_HERE;
  const target = processes.find((p) => p.pid === pid);
  if (!target || !alive(pid)) return { ok: false, code: 'NOT_FOUND', message: `No process ${pid}.` };
  try {
    await askToEnd(pid);
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

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { win32 } from 'node:path';
import { sweepMarked } from './proc-sweep.ts';

/** A program and its arguments. */
export interface Invocation {
  file: string;
  args: string[];
  /** Windows only: the arguments are passed as written (cmd.exe parses its own command line). */
  windowsVerbatimArguments?: boolean;
}

/**
 * How this OS runs shells and commands, and how it stops them with everything they started. The
 * only place in agent/shell/ that looks at the OS.
 */
export interface SystemShell {
  /**
   * The user's interactive shell, without a login: `$SHELL` or /bin/sh; on Windows PowerShell, or
   * `%ComSpec%` (cmd) where PowerShell is not installed.
   */
  interactive(): Invocation;
  /** One command line: `/bin/sh -c LINE`, or `cmd.exe /d /s /c "LINE"`. */
  command(line: string): Invocation;
  /** Whether commands get their own process group, so one signal stops what they started. */
  readonly detached: boolean;
  /** node-pty's output encoding: raw bytes where node-pty supports them. */
  readonly ptyEncoding: null | 'utf8';
  /** Stops a command and every process it started, at once. */
  killCommand(pid: number): void;
  /** Hangs up a shell's terminal: the shell and its jobs end as when a terminal window is closed. */
  hangUp(pid: number): void;
  /**
   * Kills until none is left every process started with the environment entry `mark` (or one below
   * it, see `LiveProcesses.mark`) and every descendant of `roots`, however it detached; returns how
   * many could not be killed. Where the OS offers no way to read another process's environment it
   * does what it can with `roots` alone (see the README, "Nothing left running").
   */
  sweep(mark: string, roots: readonly number[]): number;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

const posix: SystemShell = {
  interactive: () => ({ file: process.env['SHELL'] || '/bin/sh', args: [] }),
  command: (line) => ({ file: '/bin/sh', args: ['-c', line] }),
  detached: true,
  ptyEncoding: null,
  killCommand: (pid) => signalGroup(pid, 'SIGKILL'),
  // The shell leads its terminal's session and process group; interactive shells pass SIGHUP on to
  // their jobs.
  hangUp: (pid) => signalGroup(pid, 'SIGHUP'),
  // macOS has no /proc: the process groups of the roots are all it can reach.
  sweep: (_mark, roots) => {
    for (const pid of roots) signalGroup(pid, 'SIGKILL');
    return 0;
  },
};

const linux: SystemShell = { ...posix, sweep: sweepMarked };

/**
 * Windows PowerShell where it is installed (every desktop Windows since 7), else cmd: Windows editions
 * without PowerShell exist (Nano Server, images that remove it), and so does Wine, which runs the
 * Windows agent in CI and has no PowerShell.
 *
 * @example
 * windowsInteractiveShell({ SystemRoot: 'C:\\Windows' }, () => false); // { file: 'cmd.exe', args: [] }
 */
export function windowsInteractiveShell(
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): Invocation {
  const powershell = win32.join(
    env['SystemRoot'] || 'C:\\Windows',
    'System32',
    'WindowsPowerShell',
    'v1.0',
    'powershell.exe',
  );
  if (exists(powershell)) return { file: powershell, args: ['-NoLogo'] };
  return { file: env['ComSpec'] || 'cmd.exe', args: [] };
}

function taskkillTree(pid: number): void {
  spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on(
    'error',
    () => {},
  );
}

const windows: SystemShell = {
  interactive: () => windowsInteractiveShell(),
  // What Node's own `shell: true` does on Windows.
  command: (line) => ({
    file: process.env['ComSpec'] || 'cmd.exe',
    args: ['/d', '/s', '/c', `"${line}"`],
    windowsVerbatimArguments: true,
  }),
  detached: false,
  ptyEncoding: 'utf8',
  killCommand: (pid) => taskkillTree(pid),
  hangUp: (pid) => taskkillTree(pid),
  // killCommand and hangUp already ran taskkill /T, which follows parent ids only: a process whose
  // parent exited is not reached. A job object would be (see the README, "Nothing left running").
  sweep: () => 0,
};

/** The shell rules of the OS this agent runs on. */
export function systemShell(os: NodeJS.Platform = process.platform): SystemShell {
  if (os === 'win32') return windows;
  return os === 'linux' ? linux : posix;
}

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { win32 } from 'node:path';

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
};

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
  killCommand: (pid) => {
    spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on(
      'error',
      () => {},
    );
  },
  hangUp: (pid) => {
    spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on(
      'error',
      () => {},
    );
  },
};

/** The shell rules of the OS this agent runs on. */
export function systemShell(os: NodeJS.Platform = process.platform): SystemShell {
  return os === 'win32' ? windows : posix;
}

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

/** What a one-shot agent removes when it is done. */
export interface OwnFiles {
  /** The private directory the agent unpacked its assets into. */
  directory?: string;
  /** The agent's own executable; omitted with `--keep`. */
  executable?: string;
}

/**
 * Linux and macOS: unlink everything at once. A running executable and a loaded add-on can be
 * unlinked; their inodes live on until the process exits and then nothing is left.
 *
 * @returns the paths that could not be removed.
 */
export function removeNow(files: OwnFiles): string[] {
  const failed: string[] = [];
  for (const path of [files.directory, files.executable]) {
    if (!path) continue;
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      failed.push(path);
    }
  }
  return failed;
}

/**
 * How many times the Windows helper tries, about a second apart: two minutes, for a slow or loaded
 * machine where the agent's process (and what it loaded) takes long to go. It stops as soon as both
 * paths are gone, so a generous count costs nothing.
 */
const WINDOWS_HELPER_ATTEMPTS = 120;

/**
 * The command line of the detached helper that removes a Windows agent's files once it has exited:
 * Windows refuses to delete a running executable or a loaded DLL (the robotjs add-on), so `cmd`
 * waits a second (`ping` is the one sleep every Windows has), tries, and stops once both are gone.
 *
 * Returns undefined when a path cannot be quoted safely for `cmd`: `%` would be expanded even inside
 * quotes on a command line, and `"` cannot occur in a Windows path at all.
 *
 * @example
 * windowsRemovalCommand({ executable: 'C:\\Users\\ann\\Downloads\\lifeline-agent-win-x64.exe' });
 * // { file: 'cmd.exe', commandLine: '/d /q /s /c "for /l %i in (1,1,120) do @(ping …)"' }
 */
export function windowsRemovalCommand(
  files: OwnFiles,
  comspec = 'cmd.exe',
): { file: string; commandLine: string } | undefined {
  const paths = [files.executable, files.directory].filter((p): p is string => Boolean(p));
  if (paths.length === 0 || paths.some((p) => /["%\r\n]/.test(p))) return undefined;
  const removals = [
    ...(files.executable ? [`del /f /q "${files.executable}" >nul 2>&1`] : []),
    ...(files.directory ? [`rmdir /s /q "${files.directory}" >nul 2>&1`] : []),
  ];
  const done = paths.map((p) => `if not exist "${p}"`).join(' ');
  const body = ['ping -n 2 127.0.0.1 >nul', ...removals, `${done} exit`].join(' & ');
  return {
    file: comspec,
    commandLine: `/d /q /s /c "for /l %i in (1,1,${WINDOWS_HELPER_ATTEMPTS}) do @(${body})"`,
  };
}

/**
 * Windows: remove what can go now, and leave the rest to a detached, hidden helper that outlives
 * this process. Runs under Wine in `tests/windows/agent-under-wine.test.ts`; {@link windowsRemovalCommand}
 * is also tested as a string.
 *
 * @returns the paths that will not be removed.
 */
export function removeAfterExit(files: OwnFiles, env: NodeJS.ProcessEnv = process.env): string[] {
  const command = windowsRemovalCommand(files, env['ComSpec'] ?? 'cmd.exe');
  if (!command) return [files.executable, files.directory].filter((p): p is string => Boolean(p));
  try {
    const helper = spawn(command.file, [command.commandLine], {
      detached: true,
      stdio: 'ignore',
      windowsHide: true,
      // The command line is quoted for cmd above; Node's own quoting would break it.
      windowsVerbatimArguments: true,
    });
    helper.on('error', () => {});
    helper.unref();
    return [];
  } catch {
    return [files.executable, files.directory].filter((p): p is string => Boolean(p));
  }
}

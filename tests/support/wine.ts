import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type PtyProcess, spawnOnPty } from './pty.ts';

const execFileAsync = promisify(execFile);

/** How long a fresh prefix may take to initialise on a busy 2-core machine, in ms (15 s when idle). */
const PREFIX_INIT_TIMEOUT_MS = 4 * 60_000;
/** How long one short Wine command (winecfg, wineserver) may take, in ms. */
const COMMAND_TIMEOUT_MS = 2 * 60_000;

/** A fresh Wine prefix (a Windows 10 `C:` drive and registry) on an X display. */
export interface Wine {
  /** The `WINEPREFIX` directory. */
  prefix: string;
  /** Environment for every Wine process of this prefix. */
  env: NodeJS.ProcessEnv;
  /** `%TEMP%` of the Wine user (`C:\\users\\<user>\\Temp`) as a Linux path: where the agent unpacks. */
  tempDir: string;
  /** The Linux path of a path on Wine's `C:` drive, e.g. `C:\Users\Public` → `<prefix>/drive_c/Users/Public`. */
  hostPath(windowsPath: string): string;
  /** Starts a Windows program in the background (a window such as notepad). */
  start(program: string, args: string[]): PtyProcess;
  /** Linux pids and command lines of this prefix's Windows processes whose command line matches. */
  processes(match: RegExp): { pid: number; commandLine: string }[];
  /** Ends every process of the prefix (`wineserver -k`) and removes the prefix. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Creates a fresh Wine prefix under the temp directory, initialised (`wineboot --init`) and set to
 * report Windows 10 (a new prefix says Windows 7, where Node refuses to start). Wine's crash debugger
 * and its Mono and Gecko installers are off, so a crash fails the test instead of opening a dialog.
 * Fails with what to install when Wine is missing: CI installs Debian's `wine` and `wine64`.
 */
export async function startWine(display: string): Promise<Wine> {
  const probe = spawnSync('wine', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `Wine is needed to run the Windows agent (${probe.error?.message ?? probe.stderr}): apt-get install --no-install-recommends wine wine64 (.ci/run does).`,
    );
  }
  const prefix = mkdtempSync(join(tmpdir(), 'lifeline-wine-'));
  // Wine links the user's Desktop, Documents and Downloads to $HOME: keep them inside the prefix.
  const home = join(prefix, 'home');
  mkdirSync(home);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    WINEPREFIX: prefix,
    WINEARCH: 'win64',
    WINEDEBUG: '-all',
    WINEDLLOVERRIDES: 'mscoree,mshtml=;winedbg.exe=d',
    DISPLAY: display,
  };
  let stopped = false;
  const wine: Wine = {
    prefix,
    env,
    tempDir: join(prefix, 'drive_c', 'users', userInfo().username, 'Temp'),
    hostPath: (windowsPath) => {
      const match = /^[Cc]:\\?(.*)$/.exec(windowsPath);
      if (!match) throw new Error(`${windowsPath} is not a path on C:`);
      return join(prefix, 'drive_c', ...match[1]!.split('\\').filter(Boolean));
    },
    start: (program, args) => spawnOnPty('wine', [program, ...args], env),
    processes(match) {
      const found: { pid: number; commandLine: string }[] = [];
      for (const name of readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        try {
          const environ = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
          if (!environ.includes(`WINEPREFIX=${prefix}`)) continue;
          const commandLine = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
          if (match.test(commandLine)) found.push({ pid: Number(name), commandLine });
        } catch {
          // Exited while being read.
        }
      }
      return found;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await execFileAsync('wineserver', ['-k'], { env, timeout: COMMAND_TIMEOUT_MS }).catch(() => {});
      // wineserver -k returns at once; wait for the server to be gone before removing its prefix.
      await execFileAsync('wineserver', ['-w'], { env, timeout: COMMAND_TIMEOUT_MS }).catch(() => {});
      rmSync(prefix, { recursive: true, force: true });
    },
  };
  try {
    await execFileAsync('wineboot', ['--init'], { env, timeout: PREFIX_INIT_TIMEOUT_MS });
    await execFileAsync('wine', ['winecfg', '/v', 'win10'], { env, timeout: COMMAND_TIMEOUT_MS });
    if (!existsSync(wine.tempDir)) throw new Error(`the prefix has no temp folder at ${wine.tempDir}`);
  } catch (error) {
    await wine.stop();
    throw new Error(`Could not prepare a Wine prefix: ${(error as Error).message}`);
  }
  return wine;
}

/**
 * Makes Wine read the monitors from Xinerama, which the X server answers with its RandR monitors (a
 * layout made with `xrandr --setmonitor`): Wine's RandR 1.4 path sees Xvfb's single CRTC, one
 * monitor. Restarts the prefix's server, which reads the setting when it starts.
 */
export async function useXineramaMonitors(wine: Wine): Promise<void> {
  const { env } = wine;
  await execFileAsync(
    'wine',
    ['reg', 'add', 'HKCU\\Software\\Wine\\X11 Driver', '/v', 'UseXRandR', '/t', 'REG_SZ', '/d', 'N', '/f'],
    { env, timeout: COMMAND_TIMEOUT_MS },
  );
  // -k fails when the server already went (it leaves a few seconds after its last process).
  await execFileAsync('wineserver', ['-k'], { env, timeout: COMMAND_TIMEOUT_MS }).catch(() => {});
  await execFileAsync('wineserver', ['-w'], { env, timeout: COMMAND_TIMEOUT_MS });
}

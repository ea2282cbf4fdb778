import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { win32 } from 'node:path';
import { promisify } from 'node:util';
import { ownExecutable } from '../../packaging/own-executable.ts';
import { isPackaged, SERVICE_HOST_ASSET, writeAsset } from '../../packaging/sea-assets.ts';
import { removeAfterExit } from '../../platform/self-delete.ts';
import type { ResidentLayout, ResidentService } from '../resident-service.ts';

const execFileAsync = promisify(execFile);

/** The service's name for `sc` and `net start` (the host's SERVICE_NAME in service-host.c). */
export const WINDOWS_SERVICE_NAME = 'Lifeline';
const DISPLAY_NAME = 'Lifeline resident agent';
const DESCRIPTION =
  'Keeps this device reachable by its help desk: one outbound connection, no listening port.';
/** How long `sc stop` may take before uninstall deletes the service anyway, in ms (the host's grace is 10 s). */
const STOP_WAIT_MS = 30_000;
const POLL_MS = 500;
/**
 * Only the system and administrators: inheritance from ProgramData (which lets Users read) is cut,
 * and the grants are inherited by every file and folder made inside afterwards.
 */
const PRIVATE_ACL = ['/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F'];

/** Where the Windows resident agent lives: the program in Program Files, its data in ProgramData. */
export interface WindowsLayout extends ResidentLayout {
  /** `%ProgramFiles%\Lifeline`: the agent and its service host. */
  programDir: string;
  /** `lifeline-service.exe`, what the service control manager runs (service-host.c). */
  serviceHost: string;
  /** `%ProgramData%\Lifeline`: credentials, work directory and log, for SYSTEM and Administrators only. */
  dataDir: string;
  /** The agent's output (JSON lines), appended by the service host. */
  log: string;
  /**
   * `%ProgramFiles%\Lifeline\unattended`: each unattended grant's session host, run by the console
   * user; Program Files' own permissions (inherited) let Users read and run, Administrators change.
   */
  unattendedDir: string;
}

/**
 * The fixed places of a Windows installation, from the environment's well-known folders; or, for the
 * running service, the folders its command line names (`folders`).
 */
export function windowsLayout(
  env: NodeJS.ProcessEnv = process.env,
  folders: { programDir?: string; dataDir?: string } = {},
): WindowsLayout {
  const programDir =
    folders.programDir ??
    win32.join(env['ProgramW6432'] ?? env['ProgramFiles'] ?? 'C:\\Program Files', 'Lifeline');
  const dataDir = folders.dataDir ?? win32.join(env['ProgramData'] ?? 'C:\\ProgramData', 'Lifeline');
  return {
    programDir,
    executable: win32.join(programDir, 'lifeline-agent.exe'),
    serviceHost: win32.join(programDir, 'lifeline-service.exe'),
    dataDir,
    credentials: win32.join(dataDir, 'device.json'),
    workDir: win32.join(dataDir, 'work'),
    log: win32.join(dataDir, 'agent.log'),
    unattendedDir: win32.join(programDir, 'unattended'),
  };
}

/**
 * The service's command line as the service control manager stores it (its ImagePath). The host
 * runs `lifeline-agent.exe service --data-dir <dataDir>` beside itself.
 */
export function serviceCommandLine(layout: WindowsLayout): string {
  return `"${layout.serviceHost}" "${layout.dataDir}"`;
}

/** A system tool by its full path, so nothing earlier on PATH stands in for it. */
function systemTool(name: string): string {
  return win32.join(process.env['SystemRoot'] ?? 'C:\\Windows', 'System32', name);
}

async function sc(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(systemTool('sc.exe'), args, { windowsHide: true });
  return stdout;
}

/** The service's state (`RUNNING`, `STOPPED`, …), or undefined when no such service is registered. */
export async function serviceState(): Promise<string | undefined> {
  try {
    return /STATE\s*:\s*\d+\s+(\w+)/.exec(await sc('query', WINDOWS_SERVICE_NAME))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The resident agent as a Windows service: `lifeline-service.exe` (a small C program, see
 * service-host.c) speaks the service control protocol, which Node cannot, and runs
 * `lifeline-agent.exe service` as LocalSystem, started automatically at boot.
 */
export function windowsService(layout: WindowsLayout = windowsLayout()): ResidentService {
  return {
    layout,
    name: WINDOWS_SERVICE_NAME,
    paths: [layout.dataDir, layout.programDir],
    installProgram() {
      if (!isPackaged())
        throw new Error(
          'On Windows, install the packaged agent (lifeline-agent-win-x64.exe), not the source tree.',
        );
      mkdirSync(layout.programDir, { recursive: true });
      // What the user ran (the packed download, stamp and all), not the runtime the launcher unpacked:
      // the installed agent and the unattended copies made from it stay stamped and packed.
      copyFileSync(ownExecutable(), layout.executable);
      writeAsset(SERVICE_HOST_ASSET, layout.serviceHost);
    },
    async restrictCredentials() {
      mkdirSync(layout.dataDir, { recursive: true });
      await execFileAsync(systemTool('icacls.exe'), [layout.dataDir, ...PRIVATE_ACL, '/q'], {
        windowsHide: true,
      });
    },
    async register() {
      await sc(
        'create',
        WINDOWS_SERVICE_NAME,
        'binPath=',
        serviceCommandLine(layout),
        'start=',
        'auto',
        'obj=',
        'LocalSystem',
        'DisplayName=',
        DISPLAY_NAME,
      );
      await sc('description', WINDOWS_SERVICE_NAME, DESCRIPTION);
      // The host restarts the agent itself; this restarts the host should it ever crash.
      await sc('failure', WINDOWS_SERVICE_NAME, 'reset=', '86400', 'actions=', 'restart/5000');
      await sc('start', WINDOWS_SERVICE_NAME);
      return `The service ${WINDOWS_SERVICE_NAME} (${DISPLAY_NAME}) runs ${layout.executable} as LocalSystem, starts at boot, and is started; it logs to ${layout.log}.`;
    },
    async unregister() {
      if ((await serviceState()) === undefined) return;
      await sc('stop', WINDOWS_SERVICE_NAME).catch(() => {});
      for (let waited = 0; waited < STOP_WAIT_MS; waited += POLL_MS) {
        const state = await serviceState();
        if (state === undefined || state === 'STOPPED') break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      await sc('delete', WINDOWS_SERVICE_NAME);
    },
    removeFiles() {
      const left: string[] = [];
      for (const path of [layout.dataDir, layout.programDir]) {
        try {
          rmSync(path, { recursive: true, force: true });
        } catch {
          left.push(path);
        }
      }
      // `uninstall` run by the installed agent itself: its folder goes once this process has exited.
      for (const directory of left) removeAfterExit({ directory });
    },
    onStopRequest(stop) {
      for (const signal of ['SIGINT', 'SIGBREAK'] as const) process.on(signal, stop);
      // The service host closes the agent's stdin when the service control manager says stop.
      process.stdin.on('end', stop);
      process.stdin.on('error', stop);
      process.stdin.resume();
    },
  };
}

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { installExecutable } from './install-executable.ts';
import { LAUNCHD_LABEL, type LaunchdLayout, launchdPlist } from './launchd-plist.ts';
import { presencePath } from './presence.ts';
import type { ResidentService } from './resident-service.ts';

/** The macOS places of an installation, under `root` (`/` on a real Mac). */
export function launchdLayout(root = '/'): LaunchdLayout {
  const home = join(root, 'Library/Lifeline');
  return {
    root,
    executable: join(home, 'lifeline-agent'),
    credentials: join(home, 'Credentials/device.json'),
    workDir: join(home, 'Data'),
    plist: join(root, 'Library/LaunchDaemons', `${LAUNCHD_LABEL}.plist`),
    logFile: join(root, 'Library/Logs/Lifeline/lifeline-agent.log'),
  };
}

/** The daemon's name in launchd's system domain. */
const SERVICE_TARGET = `system/${LAUNCHD_LABEL}`;

/** Runs `launchctl`; whether it exited 0 (its output goes to this process's). */
function launchctl(...args: string[]): boolean {
  try {
    execFileSync('launchctl', args, { stdio: 'inherit' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The resident agent as a launchd daemon (macOS; README, "Devices": not run on a real Mac in CI).
 * `register` writes /Library/LaunchDaemons/org.lifeline.agent.plist (root's, 0644, as launchd
 * requires) and loads it with `launchctl bootstrap system`, which starts it (RunAtLoad); `unregister`
 * asks `launchctl print` whether it is loaded and `launchctl bootout`s it. Under a test root the
 * property list names the root's paths and launchctl is driven all the same.
 */
export function launchdService(layout: LaunchdLayout): ResidentService {
  const home = dirname(layout.executable);
  const paths = [
    layout.plist,
    layout.credentials,
    layout.workDir,
    layout.executable,
    dirname(layout.credentials),
    dirname(layout.logFile),
    home,
    dirname(presencePath(layout.root, 'darwin')),
  ];
  return {
    layout,
    name: LAUNCHD_LABEL,
    paths,
    installProgram: () => installExecutable(layout.executable),
    // writeCredentials makes the folder 0700 and the file 0600, both owned by root.
    restrictCredentials: () => {},
    async register() {
      mkdirSync(dirname(layout.logFile), { recursive: true, mode: 0o755 });
      mkdirSync(dirname(layout.plist), { recursive: true, mode: 0o755 });
      writeFileSync(layout.plist, launchdPlist(layout), { mode: 0o644 });
      if (!launchctl('bootstrap', 'system', layout.plist))
        throw new Error(`launchctl could not load ${layout.plist}; see the system log.`);
      return `The daemon ${LAUNCHD_LABEL} runs ${layout.executable} and is started (log: ${layout.logFile}).`;
    },
    async unregister() {
      if (launchctl('print', SERVICE_TARGET)) launchctl('bootout', SERVICE_TARGET);
    },
    removeFiles() {
      for (const path of paths) rmSync(path, { recursive: true, force: true });
    },
    onStopRequest(stop) {
      for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
    },
  };
}

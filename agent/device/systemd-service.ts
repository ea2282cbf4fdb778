import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { installExecutable } from './install-executable.ts';
import { type InstallLayout, UNIT_NAME } from './layout.ts';
import { presencePath } from './presence.ts';
import type { ResidentService } from './resident-service.ts';
import { systemdUnit } from './systemd-unit.ts';

function systemctl(...args: string[]): void {
  execFileSync('systemctl', args, { stdio: 'inherit' });
}

/**
 * The resident agent as a systemd unit (Linux). Under a test root, or where systemd does not run,
 * the unit file is written but nothing is enabled or started.
 */
export function systemdService(layout: InstallLayout): ResidentService {
  // Whether systemd manages this machine (and the installation is the real one, not under --root).
  const systemdRuns = () => layout.root === '/' && existsSync('/run/systemd/system');
  const paths = [
    layout.unitFile,
    layout.credentials,
    layout.workDir,
    layout.executable,
    dirname(layout.credentials),
    dirname(layout.executable),
    dirname(presencePath(layout.root)),
  ];
  return {
    layout,
    name: UNIT_NAME,
    paths,
    installProgram: () => installExecutable(layout.executable),
    // writeCredentials makes the folder 0700 and the file 0600, both owned by root.
    restrictCredentials: () => {},
    async register() {
      mkdirSync(dirname(layout.unitFile), { recursive: true });
      writeFileSync(layout.unitFile, systemdUnit(layout), { mode: 0o644 });
      if (!systemdRuns())
        return `The service ${UNIT_NAME} runs ${layout.executable} (start it with your service manager).`;
      systemctl('daemon-reload');
      systemctl('enable', '--now', UNIT_NAME);
      return `The service ${UNIT_NAME} runs ${layout.executable} and is started.`;
    },
    async unregister() {
      if (systemdRuns() && existsSync(layout.unitFile)) systemctl('disable', '--now', UNIT_NAME);
    },
    removeFiles() {
      for (const path of paths) rmSync(path, { recursive: true, force: true });
      if (systemdRuns()) systemctl('daemon-reload');
    },
    onStopRequest(stop) {
      for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
    },
  };
}

import { win32 } from 'node:path';
import { ownExecutable } from '../packaging/own-executable.ts';
import { launchdLayout, launchdService } from './launchd-service.ts';
import { installLayout } from './layout.ts';
import { systemdService } from './systemd-service.ts';
import { windowsLayout, windowsService } from './windows/windows-service.ts';

/** Where an installed resident agent keeps its program, identity and work, on any platform. */
export interface ResidentLayout {
  /** The installed executable; never deletes itself. */
  executable: string;
  /** The device's identity (its private key) and its server: readable by the system account only. */
  credentials: string;
  /** The service's own work directory (session hosts, unattended grants). */
  workDir: string;
  /**
   * Where unattended grants unpack their session host, when not in `workDir`: on Windows the host
   * runs as the console user, who must be able to read and run it but not change it.
   */
  unattendedDir?: string;
}

/**
 * How the resident agent becomes a system service on one platform: systemd on Linux
 * (systemd-service.ts), launchd on macOS (launchd-service.ts), the service control manager on
 * Windows (windows/windows-service.ts).
 * `install` calls, in order, installProgram, restrictCredentials (before the credentials are
 * written), register; `uninstall` calls unregister, then removes `paths`.
 */
export interface ResidentService {
  readonly layout: ResidentLayout;
  /** The name the platform's service manager knows the service by. */
  readonly name: string;
  /** Every file and folder the installation made, removed by `uninstall` once the service is gone. */
  readonly paths: readonly string[];
  /** Copies this agent (and whatever runs it as a service) to its installed place. */
  installProgram(): void;
  /** Makes the credentials' folder readable by the system and administrators only; before they are written. */
  restrictCredentials(): void | Promise<void>;
  /** Registers the service to start at boot and starts it; a sentence for the administrator. */
  register(): Promise<string>;
  /** Stops the service and removes its registration; nothing when it is not registered. */
  unregister(): Promise<void>;
  /**
   * Removes `paths`; the paths that must wait until this process has exited (Windows cannot delete
   * a running executable) are left to a helper.
   */
  removeFiles(): void;
  /** Calls `stop` when the service manager asks the running service to stop. */
  onStopRequest(stop: () => void): void;
}

/**
 * This platform's resident service; `root` (tests only) prefixes every path on Linux and macOS. `dataDir` is
 * what the Windows service host passes to the running service: its data folder, the program's
 * folder being the running executable's.
 */
export function residentService(root: string, dataDir?: string): ResidentService {
  if (process.platform === 'darwin') return launchdService(launchdLayout(root));
  if (process.platform !== 'win32') return systemdService(installLayout(root));
  const folders = dataDir ? { dataDir, programDir: win32.dirname(ownExecutable()) } : {};
  return windowsService(windowsLayout(process.env, folders));
}

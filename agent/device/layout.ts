import { join } from 'node:path';

/** The systemd unit's name. */
export const UNIT_NAME = 'lifeline-agent.service';

/** Environment variable naming the prefix every installed path lives under (tests only). */
export const ROOT_ENV = 'LIFELINE_AGENT_ROOT';

/** Where the resident agent's files live, each under `root` (`/` on a real device). */
export interface InstallLayout {
  root: string;
  /** The installed executable; never deletes itself. */
  executable: string;
  /** The device's identity (its private key) and its server: mode 0600, owned by root. */
  credentials: string;
  unitFile: string;
  /** The service's state directory (systemd's StateDirectory). */
  workDir: string;
}

/** The fixed places of an installation, under `root`. */
export function installLayout(root = '/'): InstallLayout {
  return {
    root,
    executable: join(root, 'opt/lifeline-agent/lifeline-agent'),
    credentials: join(root, 'etc/lifeline-agent/device.json'),
    unitFile: join(root, 'etc/systemd/system', UNIT_NAME),
    workDir: join(root, 'var/lib/lifeline-agent'),
  };
}

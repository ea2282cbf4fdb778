import { readFileSync } from 'node:fs';
import { hostname, platform, release } from 'node:os';
import type { DeviceReport } from '../../protocol/index.ts';
import { AGENT_VERSION } from '../node/host-info.ts';
import { consoleUser } from './console-user.ts';

/** The distribution's name and version where the system says it (Linux), else the kernel's. */
function osName(): string {
  const kernel = `${platform()} ${release()}`;
  // Elsewhere /etc/os-release is not the system's (under Wine it is the Linux host's, via Z:).
  if (platform() !== 'linux') return kernel;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    return pretty ? `${pretty} (${kernel})` : kernel;
  } catch {
    return kernel;
  }
}

/** What the resident agent tells the control plane about this device. */
export function deviceReport(): DeviceReport {
  const user = consoleUser();
  return {
    hostname: hostname(),
    os: osName().slice(0, 100),
    ...(user ? { consoleUser: user } : {}),
    agentVersion: AGENT_VERSION,
  };
}

import { hostname, platform, release, userInfo } from 'node:os';
import type { PeerInfo } from '../../protocol/index.ts';
import type { ScreenSize } from '../platform/platform.ts';

/** Agent version, shown to operators and in `--version`. */
export const AGENT_VERSION = '0.1.0';

/** What the operator sees about this device before the user accepts. */
export function hostInfo(screen: ScreenSize | undefined): PeerInfo {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the operator sees no user name.
  }
  return {
    name: 'lifeline-agent',
    version: AGENT_VERSION,
    hostname: hostname(),
    os: `${platform()} ${release()}`,
    ...(user ? { user } : {}),
    ...(screen ? { screen } : {}),
  };
}

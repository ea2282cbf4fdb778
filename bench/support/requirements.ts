import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { NOVNC_DIR } from '../viewers/static-server.ts';
import { BenchFailure } from './failure.ts';

/** Debian packages the peer needs, installed by the benchmark when missing. */
const PEER_PACKAGES = ['x11vnc', 'websockify', 'novnc'];

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Checks the programs the benchmark drives and installs the VNC peer (x11vnc, websockify, noVNC)
 * with apt-get when it is missing and the benchmark runs as root. Throws a `BenchFailure` naming
 * what to install otherwise.
 */
export function ensureRequirements(options: { peer: boolean; desktop: boolean }): void {
  if (options.desktop) {
    const missing = ['Xvfb', 'xterm', 'xdotool', 'xrandr', 'xsetroot', 'ffmpeg', 'ffplay'].filter(
      (command) => !onPath(command),
    );
    const chromium = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
    if (!existsSync(chromium)) missing.push(chromium);
    if (missing.length) {
      throw new BenchFailure(
        `missing ${missing.join(', ')}: install the Debian packages xvfb xterm xdotool x11-xserver-utils ffmpeg chromium (sudo .ci/run does)`,
      );
    }
  }
  if (!options.peer) return;
  const peerReady = () => onPath('x11vnc') && onPath('websockify') && existsSync(`${NOVNC_DIR}/core/rfb.js`);
  if (peerReady()) return;
  if (process.getuid?.() !== 0) {
    throw new BenchFailure(
      `the VNC peer is missing: run "sudo apt-get install ${PEER_PACKAGES.join(' ')}" or run the benchmark as root`,
    );
  }
  process.stdout.write(`installing the VNC peer: apt-get install ${PEER_PACKAGES.join(' ')}\n`);
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...PEER_PACKAGES], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (error) {
    throw new BenchFailure(`could not install ${PEER_PACKAGES.join(' ')} with apt-get`, { cause: error });
  }
  if (!peerReady()) throw new BenchFailure(`apt-get ran but ${PEER_PACKAGES.join(', ')} are still missing`);
}

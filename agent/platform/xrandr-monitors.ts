import { execFileSync } from 'node:child_process';
import type { MonitorArea } from './platform.ts';

/** How long `xrandr --listmonitors` may take, in ms. */
const XRANDR_TIMEOUT_MS = 5_000;

/**
 * One line of `xrandr --listmonitors`: ` 1: +*DP-1 1920/527x1080/296+1920+0  DP-1` (`+` automatic,
 * `*` primary; width/mm x height/mm + x + y).
 */
const MONITOR_LINE = /^\s*\d+:\s+([+*]*)(\S+)\s+(\d+)\/\d+x(\d+)\/\d+\+(\d+)\+(\d+)/;

/** Parses `xrandr --listmonitors` output into monitors, in its order. */
export function parseListMonitors(output: string): MonitorArea[] {
  const monitors: MonitorArea[] = [];
  for (const line of output.split('\n')) {
    const match = MONITOR_LINE.exec(line);
    if (!match) continue;
    const [, flags = '', name = '', width, height, x, y] = match;
    monitors.push({
      name: name.slice(0, 64),
      primary: flags.includes('*'),
      width: Number(width),
      height: Number(height),
      x: Number(x),
      y: Number(y),
    });
  }
  return monitors;
}

/**
 * The RandR monitors of an X display (physical outputs, or a layout set with `xrandr --setmonitor`);
 * empty when xrandr is missing or fails, so the desktop is shared as one screen.
 */
export function listX11Monitors(display: string): MonitorArea[] {
  try {
    const output = execFileSync('xrandr', ['--listmonitors'], {
      env: { ...process.env, DISPLAY: display },
      encoding: 'utf8',
      timeout: XRANDR_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return parseListMonitors(output);
  } catch {
    return [];
  }
}

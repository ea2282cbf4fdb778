import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { GuidanceLayer, GuidanceOverlay } from '../core/ports.ts';
import type { AppWindow, ClipboardCommands, FrameFeed, MonitorArea, WindowState } from './platform.ts';
import { startWindowsCapture, type WindowsCaptureOptions } from './windows-capture.ts';

/** How long `monitors` or `windows` may take, in ms (a Wine process takes seconds to start). */
const HELPER_TIMEOUT_MS = 15_000;
/** How long one clipboard read may take, in ms. */
const CLIPBOARD_READ_TIMEOUT_MS = 15_000;
/** Longest title or monitor name kept, in characters (the protocol's limits). */
const MAX_TITLE_CHARS = 200;
const MAX_NAME_CHARS = 64;

const coordinate = z.number().int().min(-1_000_000).max(1_000_000);
const length = z.number().int().min(0).max(1_000_000);
const rectangle = z.object({ x: coordinate, y: coordinate, width: length, height: length });

const monitorsLine = z.object({
  monitors: z.array(rectangle.extend({ name: z.string(), primary: z.boolean() })),
});
const windowsLine = z.object({
  windows: z.array(rectangle.extend({ id: z.number().int().positive(), title: z.string() })),
});
const windowStateLine = z.union([
  z.object({ gone: z.literal(true) }),
  z.object({ area: rectangle, hidden: z.boolean(), covered: z.array(rectangle) }),
]);

/** `lifeline-desktop.exe monitors`'s line as monitors; throws on anything else. */
export function parseMonitorsLine(line: string): MonitorArea[] {
  return monitorsLine.parse(JSON.parse(line)).monitors.map((monitor) => ({
    ...monitor,
    name: monitor.name.slice(0, MAX_NAME_CHARS),
  }));
}

/** `lifeline-desktop.exe windows`'s line as windows with a title; throws on anything else. */
export function parseWindowsLine(line: string): AppWindow[] {
  return windowsLine
    .parse(JSON.parse(line))
    .windows.map((window) => ({ ...window, title: window.title.trim().slice(0, MAX_TITLE_CHARS) }))
    .filter((window) => window.title !== '' && window.width > 0 && window.height > 0);
}

/**
 * One line of `lifeline-desktop.exe watch-window`: the window's state, or undefined once it is gone.
 * Throws on anything else.
 */
export function parseWindowStateLine(line: string): WindowState | undefined {
  const parsed = windowStateLine.parse(JSON.parse(line));
  return 'gone' in parsed ? undefined : parsed;
}

/**
 * The Win32 side of the Windows agent, through its desktop helper (`lifeline-desktop.exe`,
 * agent/platform/windows/desktop-helper.c, unpacked from the packaged agent): the monitors
 * (EnumDisplayMonitors), the top-level windows (EnumWindows), one window followed, the
 * clipboard's text, and the screen read when it changes (`capture`).
 */
export interface WindowsDesktop {
  monitors(): MonitorArea[];
  windows(): Promise<AppWindow[]>;
  watchWindow(id: number, onChange: (state: WindowState | undefined) => void): Promise<() => void>;
  clipboard: ClipboardCommands;
  guidanceOverlay(): GuidanceOverlay;
  /** Feeds the encoder a rectangle of the desktop each time it changes (see `startWindowsCapture`). */
  capture(options: WindowsCaptureOptions): FrameFeed;
}

/** The desktop helper at `helper`, as the Windows platform uses it. */
export function windowsDesktop(helper: string): WindowsDesktop {
  const run = (command: string) =>
    execFileSync(helper, [command], {
      encoding: 'utf8',
      timeout: HELPER_TIMEOUT_MS,
      windowsHide: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  return {
    monitors() {
      try {
        return parseMonitorsLine(run('monitors'));
      } catch {
        // As on Linux without xrandr: the desktop is shared as one screen.
        return [];
      }
    },
    async windows() {
      try {
        return parseWindowsLine(run('windows'));
      } catch {
        return [];
      }
    },
    watchWindow: (id, onChange) => watchWindowWith(helper, id, onChange),
    // A new process can take seconds to start where an antivirus scans it (and under Wine); a read
    // that is only slow is still a read, and polls do not overlap (SessionClipboard).
    clipboard: {
      read: [helper, 'clipboard-get'],
      write: [helper, 'clipboard-set'],
      readTimeoutMs: CLIPBOARD_READ_TIMEOUT_MS,
    },
    guidanceOverlay: () => helperOverlay(helper),
    capture: (options) => startWindowsCapture(helper, options),
  };
}

/** The line `lifeline-desktop.exe overlay` reads for these layers: `<rgb> <count> <x> <y> <w> <h>…` each. */
export function overlayLine(layers: readonly GuidanceLayer[]): string {
  const words: number[] = [];
  for (const layer of layers) {
    words.push(layer.colour, layer.rectangles.length);
    for (const r of layer.rectangles) words.push(r.x, r.y, r.width, r.height);
  }
  return `${words.map((word) => Math.round(word)).join(' ')}\n`;
}

/**
 * Guidance marks on Windows: the helper's `overlay`, a topmost, click-through layered window over
 * the whole desktop keyed out everywhere but the marks. Started on the first paint, so sessions
 * without guidance never open it; each `show` resolves once the helper says it painted.
 */
function helperOverlay(helper: string): GuidanceOverlay {
  let child: ChildProcessWithoutNullStreams | undefined;
  let closed = false;
  /** Paints waiting for their `shown`, oldest first. */
  const waiting: (() => void)[] = [];
  const settleAll = () => {
    for (const done of waiting.splice(0)) done();
  };
  const killOnExit = () => child?.kill('SIGKILL');

  const start = (): ChildProcessWithoutNullStreams => {
    const started = spawn(helper, ['overlay'], { windowsHide: true, stdio: 'pipe' });
    started.once('error', settleAll);
    started.once('close', settleAll);
    started.stdin.on('error', () => {});
    started.stderr.resume();
    createInterface({ input: started.stdout }).on('line', (line) => {
      if (line.trim() === 'shown') waiting.shift()?.();
    });
    process.once('exit', killOnExit);
    return started;
  };

  return {
    show(layers) {
      if (closed) return Promise.resolve();
      child ??= start();
      const running = child;
      if (running.exitCode !== null || running.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        waiting.push(resolve);
        running.stdin.write(overlayLine(layers));
      });
    },
    async close() {
      closed = true;
      const running = child;
      if (!running) return;
      process.removeListener('exit', killOnExit);
      if (running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('close', resolve));
      // The helper closes its window and ends when its stdin ends.
      running.stdin.end();
      const timer = setTimeout(() => running.kill(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Follows a window with `watch-window`: resolves once its first state was told (undefined when it is
 * already gone) to a function that stops following. A helper that fails or prints nonsense counts as
 * the window gone, so nothing of the desktop behind it is shown.
 */
function watchWindowWith(
  helper: string,
  id: number,
  onChange: (state: WindowState | undefined) => void,
): Promise<() => void> {
  // Its stdin stays open: the helper ends when it closes, so it never outlives the agent.
  const child = spawn(helper, ['watch-window', String(id)], {
    windowsHide: true,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    child.stdin?.destroy();
    child.kill();
  };
  return new Promise((resolve) => {
    let first = true;
    const tell = (state: WindowState | undefined) => {
      if (stopped) return;
      onChange(state);
      if (first) {
        first = false;
        resolve(stop);
      }
      if (!state) stop();
    };
    child.once('error', () => tell(undefined));
    child.once('close', () => tell(undefined));
    child.stdin?.on('error', () => {});
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let state: WindowState | undefined;
      try {
        state = parseWindowStateLine(line);
      } catch {
        state = undefined;
      }
      tell(state);
    });
  });
}

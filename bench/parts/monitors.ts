import { runX } from '../../tests/support/xvfb.ts';
import { BenchFailure, ensure } from '../support/failure.ts';
import { sleep } from '../support/net.ts';
import { SYSTEM_LABEL, type System, type Viewer } from '../viewers/viewer.ts';
import { startDesktop } from '../x11/desktop.ts';
import { startWorkload, WORKLOAD_LABEL } from '../x11/workloads.ts';
import type { BenchContext } from './context.ts';
import { measureWindow, type WindowFigures } from './workloads.ts';

/** One monitor's size; the two-monitor desktop puts two of them side by side on one X screen. */
const MONITOR = { width: 1280, height: 720 };
/** Time a workload runs before the window opens, ms (as in the workloads part). */
const WARMUP_MS = 2_000;
/** Length of the measurement window per workload and view, ms. */
const WINDOW_MS = 10_000;
/** How long the console may take to show the monitor chosen, ms. */
const SWITCH_TIMEOUT_MS = 20_000;
/** The workloads measured: the cost of capturing a desktop where little changes, and typing. */
const MONITOR_WORKLOADS = ['still', 'typing'] as const;

/**
 * What the operator views: the one monitor of a single-monitor desktop, one monitor of two (the one
 * the workload runs on), or both monitors (Lifeline's "All"; the peer's only way to view two).
 */
export type MonitorView = 'single' | 'one of two' | 'both';

export interface MonitorFigures extends WindowFigures {
  system: System;
  view: MonitorView;
  workload: (typeof MONITOR_WORKLOADS)[number];
  /** The X screen's size: one monitor, or two side by side. */
  screen: string;
}

/** Splits the X screen into two RandR monitors side by side, as a dual-head desktop reports them. */
async function setTwoMonitors(display: string): Promise<void> {
  // RandR wants a physical size too: millimetres at 96 dpi.
  const mm = (px: number) => Math.round((px * 25.4) / 96);
  const geometry = (x: number) =>
    `${MONITOR.width}/${mm(MONITOR.width)}x${MONITOR.height}/${mm(MONITOR.height)}+${x}+0`;
  await runX('xrandr', ['--setmonitor', 'LEFT', geometry(0), 'screen'], display);
  await runX('xrandr', ['--setmonitor', 'RIGHT', geometry(MONITOR.width), 'none'], display);
}

/** Chooses a monitor in Lifeline's console (`null`: All) and waits until the canvas shows it. */
async function chooseMonitor(viewer: Viewer, index: number | null, width: number): Promise<void> {
  const button = `[data-testid=monitor-${index ?? 'all'}]`;
  try {
    await viewer.page.click(button, { timeout: SWITCH_TIMEOUT_MS });
    await viewer.page.waitForSelector(`${button}[aria-pressed=true]`, { timeout: SWITCH_TIMEOUT_MS });
    await viewer.page.waitForFunction(
      (w) => document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')?.width === w,
      width,
      { timeout: SWITCH_TIMEOUT_MS },
    );
  } catch (error) {
    throw new BenchFailure(`Lifeline did not switch to monitor ${index ?? 'All'}`, { cause: error });
  }
}

/** Runs each workload on `viewer`'s desktop and measures it; appends to `results`. */
async function measureViews(
  context: BenchContext,
  viewer: Viewer,
  display: string,
  view: MonitorView,
  screen: string,
  results: MonitorFigures[],
): Promise<void> {
  for (const workload of MONITOR_WORKLOADS) {
    context.log(`monitors: ${SYSTEM_LABEL[viewer.system]}, ${view}, ${WORKLOAD_LABEL[workload]}`);
    const running = await startWorkload(workload, display);
    try {
      await sleep(WARMUP_MS);
      const figures = await measureWindow(viewer, context.scaled(WINDOW_MS, 2_000), false);
      if (workload === 'typing') {
        ensure(figures.fps > 0, `${SYSTEM_LABEL[viewer.system]} showed no picture while typing (${view})`);
      }
      results.push({ system: viewer.system, view, workload, screen, ...figures });
    } finally {
      await running.stop();
    }
  }
}

/**
 * The cost of capturing several monitors: a still desktop and typing, viewed by Lifeline on a
 * single-monitor desktop, then on a desktop of two monitors side by side (RandR monitors on one X
 * screen) with the operator viewing the monitor the workload runs on and then both; the peer views
 * the two-monitor desktop whole (noVNC has no monitor choice). Figures are appended to `results`.
 */
export async function runMonitors(context: BenchContext, results: MonitorFigures[]): Promise<void> {
  const single = await startDesktop(MONITOR.width, MONITOR.height);
  try {
    const viewer = await context.openViewer('lifeline', single.display);
    try {
      await measureViews(
        context,
        viewer,
        single.display,
        'single',
        `${MONITOR.width}x${MONITOR.height}`,
        results,
      );
    } finally {
      await viewer.stop();
    }
  } finally {
    await single.stop();
  }

  const width = 2 * MONITOR.width;
  const screen = `${width}x${MONITOR.height}`;
  const dual = await startDesktop(width, MONITOR.height);
  try {
    // Before any viewer starts, so the agent finds two monitors from the start.
    await setTwoMonitors(dual.display);
    for (const system of context.systems) {
      const viewer = await context.openViewer(system, dual.display);
      try {
        if (system === 'lifeline') {
          await chooseMonitor(viewer, 0, MONITOR.width);
          await measureViews(context, viewer, dual.display, 'one of two', screen, results);
          await chooseMonitor(viewer, null, width);
        }
        await measureViews(context, viewer, dual.display, 'both', screen, results);
      } finally {
        await viewer.stop();
      }
    }
  } finally {
    await dual.stop();
  }
}

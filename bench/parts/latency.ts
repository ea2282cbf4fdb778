import { BenchFailure, ensure } from '../support/failure.ts';
import { sleep } from '../support/net.ts';
import { type Distribution, distribution } from '../support/stats.ts';
import {
  changeLog,
  type PictureStages,
  pictureStages,
  pictureTimings,
  readCounterAt,
  readCounters,
  sentToDrawn,
} from '../viewers/instrumentation.ts';
import { SYSTEM_LABEL, type System, type Viewer } from '../viewers/viewer.ts';
import { PROBE_STRIP } from '../x11/counter.ts';
import { startDesktop } from '../x11/desktop.ts';
import type { Probe } from '../x11/probe.ts';
import type { BenchContext } from './context.ts';
import {
  type InputBreakdown,
  type InputStages,
  inputBreakdown,
  inputStages,
  type PressStamps,
} from './input-breakdown.ts';

/** Input events measured per system and resolution (the issue asks for at least 100). */
const INPUT_EVENTS = 120;
/** Events sent first and not counted: the first ones pay for warming caches and JITs. */
const WARMUP_EVENTS = 5;
/**
 * Time between the first picture and the first event, in ms: right after connecting, the viewer is
 * still working through the first keyframe and the backlog behind it (at 1920x1080 Lifeline's
 * latency starts above a second and settles within about 3 s). The figures are the steady state.
 */
const SETTLE_MS = 4_000;
/** How long one event may take to show before it counts as not shown, in ms. */
const EVENT_TIMEOUT_MS = 5_000;
/** Random pause between events, in ms, so events do not lock onto the capture clock. */
const GAP_MS = { min: 40, max: 140 };
/** Changes the test client makes on its own for display-to-viewer latency. */
const DISPLAY_TICKS = 100;
/** Random interval between those changes, in ms. */
const TICK_MS = { min: 60, max: 140 };
/**
 * More key presses than this share missing on the desktop means input does not work: the run fails.
 * Presses that arrive but show late (or are skipped by a viewer catching up) are a slow figure.
 */
const MAX_LOST_SHARE = 0.1;

export const RESOLUTIONS = [
  { width: 1280, height: 720 },
  { width: 1920, height: 1080 },
] as const;

export interface LatencyFigures {
  system: System;
  resolution: string;
  /** Input event in the page to the changed picture on the viewer's canvas, ms; `lost`: not shown in 5 s. */
  inputToDisplay: Distribution & { lost: number };
  /**
   * The same when each key press repaints the whole screen (the test client's full-screen mode, a
   * checkerboard inverted on every press) rather than the counter's small strip.
   */
  fullScreenInputToDisplay?: Distribution & { lost: number };
  /** Change on the X display to the changed picture on the viewer's canvas, ms; `missed`: never shown. */
  displayToViewer: Distribution & { missed: number };
  /**
   * Lifeline only: from the agent's send stamp (an access unit cut from ffmpeg's output) to the picture
   * drawn, over every picture during the display-to-viewer run. The rest of display-to-viewer is
   * spent on the desktop side: waiting for the next capture, encoding, and cutting the access unit.
   */
  sentToDrawn?: Distribution;
  /** Lifeline only: `sentToDrawn` split into its stages (see `PictureStages`), over the same pictures. */
  stages?: Record<Exclude<keyof PictureStages, 'keyframe'>, Distribution>;
  /**
   * Lifeline only: where input-to-display spent its time (`InputStages`), the median sample's beside
   * the slowest 5 %'s, for the small change and the full-screen one.
   */
  inputBreakdown?: { counter?: InputBreakdown; fullScreen?: InputBreakdown };
  /** Lifeline only: access units the console skipped to catch up while these were measured. */
  skipped: number;
  samples: {
    inputToDisplay: number[];
    fullScreenInputToDisplay?: number[];
    displayToViewer: number[];
    /** Lifeline only: each input-to-display sample split into its stages (`inputBreakdown`'s samples). */
    inputStages?: InputStages[];
    fullScreenInputStages?: InputStages[];
  };
}

/** Waits until the viewer shows a readable counter; fails the run if it never does. */
async function waitForCounter(viewer: Viewer): Promise<void> {
  await viewer.page
    .waitForFunction(() => window.benchPage.value !== undefined, undefined, { timeout: 10_000 })
    .catch(() => {
      throw new BenchFailure(`${SYSTEM_LABEL[viewer.system]} never showed the test client's counter`);
    });
}

/**
 * Presses a key on the viewer `events` times (or for `durationMs`, when given), one at a time, and
 * times each from keydown to the picture showing the probe's next value. On Lifeline each sample is
 * also split into its stages (`stages`, see `InputStages`).
 */
export async function measureInput(
  viewer: Viewer,
  probe: Probe,
  events: number,
  durationMs?: number,
): Promise<{ samples: number[]; lost: number; pressed: number; stages: InputStages[] }> {
  const { page } = viewer;
  probe.focus();
  probe.input(true);
  await readCounterAt(page, PROBE_STRIP.x, PROBE_STRIP.y);
  await waitForCounter(viewer);
  await viewer.focus();
  await sleep(SETTLE_MS);
  const lifeline = viewer.system === 'lifeline';
  // Emptied: the pictures taken at the end are those of these presses.
  if (lifeline) await pictureTimings(page);
  const presses: PressStamps[] = [];
  const samples: number[] = [];
  let lost = 0;
  const received = probe.inputsReceived();
  let pressed = 0;
  const endAt = durationMs === undefined ? undefined : performance.now() + durationMs;
  const more = (i: number) => (endAt === undefined ? i < WARMUP_EVENTS + events : performance.now() < endAt);
  try {
    for (let i = 0; more(i); i++) {
      pressed++;
      const value = await page.evaluate(() => window.benchPage.expectNext());
      await page.keyboard.press('KeyA');
      const { latency, stamps } = await page.evaluate(async (timeout) => {
        const latency = await window.benchPage.waitForTarget(timeout);
        return { latency, stamps: window.benchPage.lastSample() };
      }, EVENT_TIMEOUT_MS);
      if (i >= WARMUP_EVENTS) {
        if (latency === null) lost++;
        else samples.push(latency);
        if (stamps) presses.push({ value, ...stamps });
      }
      // After a loss, let a late picture arrive so the next event is matched with its own change.
      await sleep(latency === null ? 1_000 : GAP_MS.min + Math.random() * (GAP_MS.max - GAP_MS.min));
    }
    // Presses still on their way when the last one timed out.
    await sleep(500);
  } finally {
    probe.input(false);
  }
  const missing = pressed - (probe.inputsReceived() - received);
  ensure(
    missing <= pressed * MAX_LOST_SHARE,
    `${SYSTEM_LABEL[viewer.system]}: ${missing} of ${pressed} key presses never reached the desktop`,
  );
  // Over a fixed time (the thin link) nothing shown is a figure: every press stuck behind a queue.
  if (durationMs === undefined) {
    ensure(samples.length > 0, `${SYSTEM_LABEL[viewer.system]}: no input event ever showed on the viewer`);
  }
  const stages = lifeline ? inputStages(presses, probe.inputTicks(), await pictureTimings(page)) : [];
  return { samples, lost, pressed, stages };
}

async function measureDisplay(
  viewer: Viewer,
  probe: Probe,
  changes: number,
): Promise<{ samples: number[]; missed: number; sentToDrawn: number[]; stages: PictureStages[] }> {
  const { page } = viewer;
  const lifeline = viewer.system === 'lifeline';
  await readCounterAt(page, PROBE_STRIP.x, PROBE_STRIP.y);
  await waitForCounter(viewer);
  if (lifeline) await pictureStages(page);
  const ticks = await probe.ticks(changes, TICK_MS.min, TICK_MS.max);
  await sleep(1_000);
  const log = await changeLog(page);
  const stamps = lifeline ? await sentToDrawn(page) : [];
  const stages = lifeline ? await pictureStages(page) : [];
  const samples: number[] = [];
  let missed = 0;
  for (const tick of ticks) {
    // Values wrap at 256 and a run makes 100 changes, so a value is unique within the window.
    const shown = log.find(([value, at]) => value === tick.value && at >= tick.at - 2);
    if (shown) samples.push(shown[1] - tick.at);
    else missed++;
  }
  // A viewer that skips pictures to catch up misses changes: a slow figure. None at all is a failure.
  ensure(
    samples.length > 0,
    `${SYSTEM_LABEL[viewer.system]}: none of ${changes} display changes reached the viewer`,
  );
  return { samples, missed, sentToDrawn: stamps, stages };
}

/**
 * Input-to-display (a small change, then a full-screen one) and display-to-viewer latency, for
 * Lifeline and the VNC peer, at each resolution.
 * One desktop per resolution; the two systems take turns on it, never running at the same time.
 * Figures are appended to `results` as they are measured, so a failure keeps what came before.
 */
export async function runLatency(context: BenchContext, results: LatencyFigures[]): Promise<void> {
  for (const { width, height } of RESOLUTIONS) {
    const resolution = `${width}x${height}`;
    const desktop = await startDesktop(width, height);
    try {
      for (const system of context.systems) {
        context.log(`latency: ${SYSTEM_LABEL[system]} at ${resolution}`);
        const viewer = await context.openViewer(system, desktop.display);
        try {
          const before = await readCounters(viewer.page);
          const input = await measureInput(viewer, desktop.probe, context.scaled(INPUT_EVENTS, 10));
          // A failure ends the run, and the desktop with the probe: no need to switch it back then.
          await desktop.probe.fullScreen(true);
          const fullScreen = await measureInput(viewer, desktop.probe, context.scaled(INPUT_EVENTS, 10));
          await desktop.probe.fullScreen(false);
          const display = await measureDisplay(viewer, desktop.probe, context.scaled(DISPLAY_TICKS, 10));
          const skipped = (await readCounters(viewer.page)).skipped - before.skipped;
          results.push({
            system,
            resolution,
            skipped,
            inputToDisplay: { ...distribution(input.samples), lost: input.lost },
            fullScreenInputToDisplay: { ...distribution(fullScreen.samples), lost: fullScreen.lost },
            displayToViewer: { ...distribution(display.samples), missed: display.missed },
            ...(display.sentToDrawn.length ? { sentToDrawn: distribution(display.sentToDrawn) } : {}),
            ...(display.stages.length ? { stages: stageDistributions(display.stages) } : {}),
            ...(input.stages.length || fullScreen.stages.length
              ? {
                  inputBreakdown: {
                    ...optional('counter', inputBreakdown(input.stages)),
                    ...optional('fullScreen', inputBreakdown(fullScreen.stages)),
                  },
                }
              : {}),
            samples: {
              inputToDisplay: input.samples,
              fullScreenInputToDisplay: fullScreen.samples,
              displayToViewer: display.samples,
              ...(input.stages.length ? { inputStages: input.stages } : {}),
              ...(fullScreen.stages.length ? { fullScreenInputStages: fullScreen.stages } : {}),
            },
          });
        } finally {
          await viewer.stop();
        }
      }
    } finally {
      await desktop.stop();
    }
  }
}

/** `{ [key]: value }`, or nothing when `value` is undefined (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function stageDistributions(stages: PictureStages[]): NonNullable<LatencyFigures['stages']> {
  const of = (key: keyof NonNullable<LatencyFigures['stages']>) => distribution(stages.map((s) => s[key]));
  return {
    toConsole: of('toConsole'),
    toDecoder: of('toDecoder'),
    decoding: of('decoding'),
    converting: of('converting'),
    drawing: of('drawing'),
  };
}

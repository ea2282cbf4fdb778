import type { PictureTimings } from '../../console/app/media/video-timings.ts';
import { quantile } from '../support/stats.ts';
import type { Tick } from '../x11/probe.ts';

/**
 * Where one input-to-display sample spent its time, in ms, from the stamps of the viewer page, the
 * test client and the console (all on this machine's system clock; the agent's send stamp is whole
 * milliseconds, so `desktop` and `toConsole` are ±1 ms each).
 */
export interface InputStages {
  /** The whole sample: keydown to the picture showing the new value. */
  total: number;
  /** Keydown on the page → the test client received the press (console, relay, agent, XTest, X server). */
  input: number;
  /**
   * The test client painted → the agent sent the access unit: DAMAGE, the wait for the capture's next
   * slot (`frameIntervalMs`), reading the rows, encoding, cutting the access unit.
   */
  desktop: number;
  /** Agent sent → the console's renderer has the unit (agent socket, relay, browser socket, main thread). */
  toConsole: number;
  /** Renderer → `decode()` called (the decode queue). */
  toDecoder: number;
  /** `decode()` → the decoder's output. */
  decoding: number;
  /** Decoder's output → pixels ready to draw (the video worker's conversion; 0 where the page draws). */
  converting: number;
  /** Ready → drawn on the canvas (the worker → page round trip and the draw). */
  drawing: number;
  /**
   * This picture's agent send stamp minus the one before it: below the capture's interval (33 ms at
   * 30 fps), the change waited for the capture's next slot.
   */
  sincePrevious: number;
  /**
   * Pictures the agent sent after the press arrived and before the one that showed it: above 0, a
   * capture read the screen before the change was all drawn, and the rest came in a later picture.
   */
  earlier: number;
}

/** The stages in print order, without `total`. */
export const INPUT_STAGE_KEYS = [
  'input',
  'desktop',
  'toConsole',
  'toDecoder',
  'decoding',
  'converting',
  'drawing',
  'sincePrevious',
  'earlier',
] as const satisfies readonly (keyof InputStages)[];

/** One measured press: the value it should show and its page stamps (epoch ms). */
export interface PressStamps {
  value: number;
  keyAt: number;
  seenAt: number;
}

/**
 * Splits each press into its stages: the test client's arrival stamp for its value (the first at or
 * after the keydown), and the console's timings of the first picture drawn when the value was seen
 * (the console stamps `drawn` just after the draw the page reads the counter in). A press without
 * both is left out.
 */
export function inputStages(
  presses: readonly PressStamps[],
  arrivals: readonly Tick[],
  pictures: readonly PictureTimings[],
): InputStages[] {
  const out: InputStages[] = [];
  for (const press of presses) {
    const arrived = arrivals.find((a) => a.value === press.value && a.at >= press.keyAt - 1);
    const index = pictures.findIndex((p) => p.drawn >= press.seenAt);
    const picture = pictures[index];
    const previous = pictures[index - 1];
    if (!arrived || !picture) continue;
    out.push({
      total: press.seenAt - press.keyAt,
      input: arrived.at - press.keyAt,
      desktop: picture.sent - arrived.at,
      toConsole: picture.received - picture.sent,
      toDecoder: picture.decodeCalled - picture.received,
      decoding: picture.output - picture.decodeCalled,
      converting: picture.converted - picture.output,
      drawing: picture.drawn - picture.converted,
      sincePrevious: previous ? picture.sent - previous.sent : Number.NaN,
      // The send stamp is whole milliseconds, taken after encoding: no earlier picture is missed.
      earlier: pictures.slice(0, index).filter((p) => p.sent >= Math.floor(arrived.at)).length,
    });
  }
  return out;
}

/** The median sample's stages beside the slowest 5 %'s. */
export interface InputBreakdown {
  /** Per stage, the median over every sample. */
  median: InputStages;
  /** Per stage, the mean over the samples at or above the 95th percentile of `total`. */
  slowest: InputStages;
  /** Samples in `slowest`. */
  slowestCount: number;
}

/** The median's and the slowest 5 %'s stages of `samples`; undefined when there are none. */
export function inputBreakdown(samples: readonly InputStages[]): InputBreakdown | undefined {
  if (samples.length === 0) return undefined;
  const totals = samples.map((s) => s.total).sort((a, b) => a - b);
  const p95 = quantile(totals, 0.95);
  const slow = samples.filter((s) => s.total >= p95);
  const keys = ['total', ...INPUT_STAGE_KEYS] as const;
  const of = (pick: (key: (typeof keys)[number]) => number) =>
    Object.fromEntries(keys.map((key) => [key, pick(key)])) as unknown as InputStages;
  const finite = (values: number[]) => values.filter(Number.isFinite);
  return {
    median: of((key) =>
      quantile(
        finite(samples.map((s) => s[key])).sort((a, b) => a - b),
        0.5,
      ),
    ),
    slowest: of((key) => {
      const values = finite(slow.map((s) => s[key]));
      return values.reduce((sum, v) => sum + v, 0) / values.length;
    }),
    slowestCount: slow.length,
  };
}

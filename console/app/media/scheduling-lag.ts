/**
 * How late the console's page gets to run what is due: a timer due every TICK_MS whose lateness is
 * averaged over each whole second. When the whole machine is short of CPU (other processes), the
 * page's tasks wait to be scheduled rather than run long, so the Long Tasks API and the measured
 * drawing time (see `VideoPathChooser`) do not see it, yet pictures wait just as long; a timer that
 * comes late does. See README "Adaptation".
 */

/** How often the timer is due, ms: often enough for a few dozen samples a second, rare enough to cost nothing. */
export const TICK_MS = 50;
/** The window whose mean lateness is judged, ms (the video path chooser's too). */
const WINDOW_MS = 1000;
/** Lateness a tick may have and still be on time, ms: the timer's own slack and an ordinary task before it. */
const ON_TIME_MS = 8;
/**
 * Mean lateness of a window past which the page is starved, ms: tasks then wait about a picture's
 * interval at 30 fps before they run, so pictures arrive faster than the page gets to them.
 */
const STARVED_MEAN_MS = 30;
/** Mean lateness of a window below which the page is fed again, ms (hysteresis: well under STARVED_MEAN_MS). */
const FED_MEAN_MS = 10;
/**
 * Starved windows in a row before the console says it is behind. One, as the video path chooser's
 * verdict: the agent undoes a budget cut made in the 2.5 s before the console says it (link-budget.ts),
 * and two windows came too late for that in the end-to-end test. A GC pause of 300 ms alone adds
 * about 15 ms to a window's mean; a hidden page is not counted at all.
 */
const STARVED_WINDOWS = 1;
/** Fed windows in a row before it says it keeps up again, so the agent's frame rate does not flap. */
const FED_WINDOWS = 3;

/**
 * The scheduling-delay measure, on whatever clock it is given: `ran(due, now)` for each tick, and
 * `behind` once the mean lateness over a whole window says the page is starved (STARVED_WINDOWS in a
 * row over STARVED_MEAN_MS), until it is fed again (FED_WINDOWS in a row under FED_MEAN_MS).
 * @example
 * const lag = new SchedulingLag((meanMs, behind) => show(meanMs, behind));
 * const stop = tickEvery(lag); // the browser's timer; tests call lag.ran(due, now) themselves
 * if (lag.behind) tellTheAgent();
 */
export class SchedulingLag {
  #windowStart: number | undefined;
  #ticks = 0;
  #lateMs = 0;
  /** The page's own long tasks in the window, ms: the timer's lateness they explain is not starvation. */
  #ownMs = 0;
  #starved = 0;
  #fed = 0;
  #behind = false;
  #meanMs = 0;

  /** `onWindow` hears each whole window's mean lateness (ms) and the verdict after it. */
  constructor(private readonly onWindow: (meanMs: number, behind: boolean) => void = () => {}) {}

  /** Whether the page has been starved of CPU over the last whole windows (see the class). */
  get behind(): boolean {
    return this.#behind;
  }

  /** The last whole window's mean lateness beyond on time, ms. */
  get meanMs(): number {
    return this.#meanMs;
  }

  /** A tick due at `due` ran at `now` (same clock, ms). */
  ran(due: number, now: number): void {
    if (now - due > WINDOW_MS) {
      // The page did not run at all for a whole window: a suspended laptop or a frozen tab, not a
      // starved page. The window starts afresh; the verdict stands.
      this.#startWindow(now);
      return;
    }
    this.#windowStart ??= due;
    this.#ticks++;
    this.#lateMs += Math.max(now - due - ON_TIME_MS, 0);
    if (now - this.#windowStart >= WINDOW_MS) this.#judge(now);
  }

  /**
   * A long task ran on the page (the Long Tasks API): it delays the timer by as much as it runs, and
   * that is the page's own work, which the video path chooser already weighs, not a wait for the CPU.
   */
  longTask(durationMs: number): void {
    this.#ownMs += durationMs;
  }

  /** Forgets the window under way and the verdict: the page was hidden, where browsers slow timers on purpose. */
  reset(): void {
    this.#windowStart = undefined;
    this.#ticks = 0;
    this.#lateMs = 0;
    this.#ownMs = 0;
    this.#starved = 0;
    this.#fed = 0;
    this.#behind = false;
  }

  #judge(now: number): void {
    this.#meanMs = Math.max(this.#lateMs - this.#ownMs, 0) / this.#ticks;
    if (this.#meanMs > STARVED_MEAN_MS) {
      this.#starved++;
      this.#fed = 0;
    } else if (this.#meanMs < FED_MEAN_MS) {
      this.#fed++;
      this.#starved = 0;
    } else {
      // In between: the verdict stands, and neither run goes on.
      this.#starved = 0;
      this.#fed = 0;
    }
    if (this.#starved >= STARVED_WINDOWS) this.#behind = true;
    if (this.#fed >= FED_WINDOWS) this.#behind = false;
    this.#startWindow(now);
    this.onWindow(this.#meanMs, this.#behind);
  }

  #startWindow(now: number): void {
    this.#windowStart = now;
    this.#ticks = 0;
    this.#lateMs = 0;
    this.#ownMs = 0;
  }
}

/**
 * Runs `lag`'s timer in the page: a tick every TICK_MS, each due TICK_MS after the last ran, not
 * counted while the page is hidden. Returns the function that stops it.
 */
export function tickEvery(lag: SchedulingLag): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    const due = performance.now() + TICK_MS;
    timer = setTimeout(() => {
      if (document.visibilityState === 'visible') lag.ran(due, performance.now());
      else lag.reset();
      schedule();
    }, TICK_MS);
  };
  schedule();
  return () => clearTimeout(timer);
}

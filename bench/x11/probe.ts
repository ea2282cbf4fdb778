import { fileURLToPath } from 'node:url';
import { type Managed, startProcess } from '../support/processes.ts';

const ENTRY = fileURLToPath(new URL('./probe-main.ts', import.meta.url));
/** How long the test client may take to connect and paint, in ms. */
const READY_TIMEOUT_MS = 20_000;
/** Presses whose arrival is kept for the input-to-display breakdown; older ones are dropped. */
const MAX_INPUT_TICKS = 4096;

/** One scheduled change of the counter: its new value and when it was painted (epoch ms). */
export interface Tick {
  value: number;
  at: number;
}

/** Controls the test client (`probe-main.ts`) on one display. */
export interface Probe {
  /** Advance the counter on each key or button press the window receives. */
  input(on: boolean): void;
  /** Key and button presses the window received (and advanced on) so far. */
  inputsReceived(): number;
  /** The last presses received (at most a few thousand): the value each advanced to and when (epoch ms). */
  inputTicks(): readonly Tick[];
  /**
   * Shows (or hides) the full-screen pattern below the counter: while shown, every advance repaints
   * the whole screen (`full-screen.ts`). Resolves once the X server has done it.
   */
  fullScreen(on: boolean): Promise<void>;
  /** Takes the keyboard focus back (after another window took it). */
  focus(): void;
  /** Advances the counter `count` times at random gaps in [minMs, maxMs]; resolves with every change. */
  ticks(count: number, minMs: number, maxMs: number): Promise<Tick[]>;
  stop(): Promise<void>;
}

/** Resolves with the first stdout line `match` accepts, or rejects after `timeoutMs`. */
function nextLine(child: Managed, what: string, match: (line: string) => boolean, timeoutMs: number) {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out waiting for ${what}: ${child.output()}`));
    }, timeoutMs);
    const unsubscribe = child.onLine((line) => {
      if (!match(line)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(line);
    });
    void child.exited.then((code) => {
      clearTimeout(timer);
      unsubscribe();
      reject(new Error(`the X test client exited (${code}) before ${what}: ${child.output()}`));
    });
  });
}

/**
 * Starts the test client on `display` and waits for its first picture.
 *
 * @example
 * const probe = await startProbe(':5');
 * const ticks = await probe.ticks(100, 80, 160);
 */
export async function startProbe(display: string): Promise<Probe> {
  const child = startProcess('x11 probe', process.execPath, ['--import', 'tsx', ENTRY], {
    ...process.env,
    DISPLAY: display,
  });
  await nextLine(child, 'the X test client to paint', (line) => line.startsWith('ready '), READY_TIMEOUT_MS);
  let inputs = 0;
  const inputTicks: Tick[] = [];
  child.onLine((line) => {
    const match = /^input (\d+) ([\d.]+)$/.exec(line);
    if (!match) return;
    inputs++;
    inputTicks.push({ value: Number(match[1]), at: Number(match[2]) });
    if (inputTicks.length > MAX_INPUT_TICKS) inputTicks.shift();
  });
  return {
    input: (on) => child.writeLine(`input ${on ? 'on' : 'off'}`),
    inputsReceived: () => inputs,
    inputTicks: () => inputTicks,
    focus: () => child.writeLine('focus'),
    async fullScreen(on) {
      const state = `fullscreen ${on ? 'on' : 'off'}`;
      const done = nextLine(
        child,
        `the full-screen pattern ${on ? 'shown' : 'hidden'}`,
        (line) => line === state,
        READY_TIMEOUT_MS,
      );
      child.writeLine(state);
      await done;
    },
    async ticks(count, minMs, maxMs) {
      const ticks: Tick[] = [];
      const unsubscribe = child.onLine((line) => {
        const match = /^tick (\d+) ([\d.]+)$/.exec(line);
        if (match) ticks.push({ value: Number(match[1]), at: Number(match[2]) });
      });
      try {
        const done = nextLine(
          child,
          'the scheduled changes',
          (line) => line === 'ticks-done',
          count * maxMs + 10_000,
        );
        child.writeLine(`ticks ${count} ${minMs} ${maxMs}`);
        await done;
      } finally {
        unsubscribe();
      }
      return ticks;
    },
    async stop() {
      child.writeLine('quit');
      await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 1_000))]);
      await child.stop();
    },
  };
}

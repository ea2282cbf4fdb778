import { runX } from '../../tests/support/xvfb.ts';
import { BenchFailure } from '../support/failure.ts';
import { type Managed, startProcess } from '../support/processes.ts';
import { BLOCK_PX, counterOverlayFilter } from './counter.ts';

/** What the desktop does while frame rate, bandwidth and CPU are measured. */
export type WorkloadName = 'still' | 'typing' | 'scrolling' | 'video';

export const WORKLOADS: readonly WorkloadName[] = ['still', 'typing', 'scrolling', 'video'];

export const WORKLOAD_LABEL: Record<WorkloadName, string> = {
  still: 'still desktop',
  typing: 'typing in a terminal',
  scrolling: 'scrolling text',
  video: 'full-motion video',
};

/** Top edge of the workload's window, below the test client's strip. */
const TOP_PX = 120;
/** Characters per second typed into the terminal: a fast typist. */
const TYPING_DELAY_MS = 100;
/** Lines per second printed in the scrolling terminal. */
const SCROLL_INTERVAL_S = 0.02;
/** The video: ffmpeg's testsrc2 pattern at this rate, played by ffplay. */
const VIDEO_FPS = 30;
/** The video's size on the 1280x720 desktop (unless the caller asks for another). */
export const VIDEO_SIZE = { width: 960, height: 540 };

const TEXT =
  'The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.\n' +
  'How vexingly quick daft zebras jump! Sphinx of black quartz, judge my vow.\n';

/** A running workload. */
export interface Workload {
  name: WorkloadName;
  /** Where its picture carries the frame counter (the video does), in screen pixels. */
  counter: { x: number; y: number } | undefined;
  stop(): Promise<void>;
}

async function windowOf(display: string, what: string, args: string[]): Promise<string> {
  try {
    const ids = await runX('xdotool', ['search', '--sync', '--onlyvisible', ...args], display);
    const id = ids.trim().split('\n')[0];
    if (!id) throw new Error('no window');
    return id;
  } catch (error) {
    throw new BenchFailure(`the ${what} window did not appear`, { cause: error });
  }
}

/**
 * Starts `name` on `display` and resolves once its window is up. `video` is the video's size in
 * screen pixels (generated at that size, so its frame counter keeps its geometry).
 */
export async function startWorkload(
  name: WorkloadName,
  display: string,
  video: { width: number; height: number } = VIDEO_SIZE,
): Promise<Workload> {
  const env = { ...process.env, DISPLAY: display };
  const started: Managed[] = [];
  const stop = async () => {
    for (const child of started.reverse()) await child.stop();
  };
  try {
    let counter: Workload['counter'];
    if (name === 'typing') {
      started.push(
        startProcess('xterm (typing)', 'xterm', ['-geometry', `100x24+0+${TOP_PX}`, '-e', 'cat'], env),
      );
      const id = await windowOf(display, 'typing terminal', ['--class', 'xterm']);
      // No window manager: focus the terminal explicitly, as a click would with one.
      await runX('xdotool', ['windowfocus', '--sync', id], display);
      started.push(
        startProcess(
          'xdotool type',
          'xdotool',
          ['type', '--delay', String(TYPING_DELAY_MS), TEXT.repeat(4)],
          env,
        ),
      );
    } else if (name === 'scrolling') {
      const script = `i=0; while [ $i -lt 100000 ]; do echo "$i ${TEXT.split('\n')[0]}"; i=$((i+1)); sleep ${SCROLL_INTERVAL_S}; done`;
      started.push(
        startProcess(
          'xterm (scrolling)',
          'xterm',
          ['-geometry', `100x24+0+${TOP_PX}`, '-e', 'sh', '-c', script],
          env,
        ),
      );
      await windowOf(display, 'scrolling terminal', ['--class', 'xterm']);
    } else if (name === 'video') {
      const source = `testsrc2=size=${video.width}x${video.height}:rate=${VIDEO_FPS},${counterOverlayFilter(BLOCK_PX, BLOCK_PX)}`;
      started.push(
        startProcess(
          'ffplay',
          'ffplay',
          [
            ...['-hide_banner', '-loglevel', 'error', '-an', '-noborder'],
            ...['-left', '0', '-top', String(TOP_PX), '-f', 'lavfi', '-i', source],
          ],
          env,
        ),
      );
      await windowOf(display, 'video', ['--class', 'ffplay']);
      counter = { x: BLOCK_PX, y: TOP_PX + BLOCK_PX };
    }
    return { name, counter, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Records the benchmark's workloads as raw BGRX frames, for `encode.ts` to encode offline: the bytes
 * an encoder makes depend only on its input, so settings are compared on the same frames every time.
 *
 * Each workload runs on its own Xvfb desktop (1280×720, or `--size`; at 1920×1080 the video is 1600×900) (`bench/x11/workloads.ts`) and is read by the
 * agent's own capture (`agent/platform/x11-capture.ts`: on X DAMAGE, at most 30 frames a second, a
 * frame equal to the last left out), so the frames are the ones the agent would encode. (ffmpeg's
 * x11grab is no substitute: on a busy machine it repeats frames to keep its clock.) One file per
 * workload, whole frames back to back: `<dir>/<workload>.bgrx`.
 *
 *     npx tsx bench/encoder/record.ts [--dir /tmp/lifeline-frames] [--frames 240] [--size 1920x1080] [--workloads video]
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { FrameFraming } from '../../agent/platform/platform.ts';
import { startX11Capture } from '../../agent/platform/x11-capture.ts';
import { runX, startXvfb } from '../../tests/support/xvfb.ts';
import { sleep } from '../support/net.ts';
import { stopAll } from '../support/processes.ts';
import { startWorkload, type WorkloadName } from '../x11/workloads.ts';

/** The benchmark's desktop and background (bench/x11/desktop.ts). */
export const FRAME_SIZE = { width: 1280, height: 720 };
const BACKGROUND = '#2060c0';
/** Time a workload runs before recording starts, ms. */
const WARMUP_MS = 2_000;
const GRAB_FPS = 30;
/** Longest a recording runs when the workload changes the screen less often than asked, ms. */
const RECORD_LIMIT_MS = 20_000;
/** The workloads worth encoding offline: a still desktop makes no frames. */
export const RECORDED: readonly Exclude<WorkloadName, 'still'>[] = ['typing', 'scrolling', 'video'];

/** The recording of one workload in `dir`. */
export function recordingPath(dir: string, workload: WorkloadName): string {
  return join(dir, `${workload}.bgrx`);
}

/** A `WIDTHxHEIGHT` option, e.g. `1920x1080`. */
export function parseSize(text: string): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(text);
  if (!match) throw new Error(`a size is WIDTHxHEIGHT, e.g. 1920x1080, not ${text}`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

async function record(
  workload: WorkloadName,
  dir: string,
  frames: number,
  size: { width: number; height: number },
): Promise<number> {
  const xvfb = await startXvfb(size);
  try {
    await runX('xsetroot', ['-solid', BACKGROUND], xvfb.display);
    // At 1920x1080 the video fills most of the screen, as in the benchmark (bench/parts/workloads.ts).
    const video = size.width >= 1920 ? { width: 1600, height: 900 } : undefined;
    const running = await startWorkload(workload, xvfb.display, video);
    try {
      await sleep(WARMUP_MS);
      const out = createWriteStream(recordingPath(dir, workload));
      let kept = 0;
      let failed: string | undefined;
      let finish: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      // Whole frames with nothing between them: no band header, so the capture writes every frame whole.
      const framing: FrameFraming = {
        header: () => new Uint8Array(0),
        frameHeader: () => {
          if (++kept === frames) setImmediate(finish);
          return new Uint8Array(0);
        },
      };
      const feed = startX11Capture({
        display: xvfb.display,
        area: { x: 0, y: 0, ...size },
        framerate: GRAB_FPS,
        stdin: out,
        framing,
        hooks: {
          onError: (message) => {
            failed = message;
            finish();
          },
        },
      });
      await Promise.race([finished, sleep(RECORD_LIMIT_MS)]);
      feed.stop();
      await new Promise((resolve) => out.end(resolve));
      if (failed) throw new Error(`the capture failed: ${failed}`);
      return Math.min(kept, frames);
    } finally {
      await running.stop();
    }
  } finally {
    await xvfb.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: '/tmp/lifeline-frames' },
      frames: { type: 'string', default: '200' },
      size: { type: 'string', default: `${FRAME_SIZE.width}x${FRAME_SIZE.height}` },
      workloads: { type: 'string' },
    },
  });
  mkdirSync(values.dir, { recursive: true });
  const workloads = values.workloads?.split(',');
  for (const workload of RECORDED) {
    if (workloads && !workloads.includes(workload)) continue;
    const kept = await record(workload, values.dir, Number(values.frames), parseSize(values.size));
    console.log(
      `${workload}: ${kept} distinct frames of ${values.frames} in ${recordingPath(values.dir, workload)}`,
    );
  }
}

/** Runs a script's `main`, and stops every process it started however it ends. */
export function runScript(main: () => Promise<void>): void {
  main().then(
    () => stopAll(),
    async (error) => {
      console.error(error);
      await stopAll();
      process.exit(1);
    },
  );
}

if (import.meta.url === `file://${process.argv[1]}`) runScript(main);

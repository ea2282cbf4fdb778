import { BenchFailure, ensure } from '../support/failure.ts';
import { sleep } from '../support/net.ts';
import { CpuMeter } from '../support/processes.ts';
import { type Distribution, distribution } from '../support/stats.ts';
import { type FirstPicture, readCounterAt, readCounters } from '../viewers/instrumentation.ts';
import { SYSTEM_LABEL, type System, type Viewer } from '../viewers/viewer.ts';
import { startDesktop } from '../x11/desktop.ts';
import { startWorkload, VIDEO_SIZE, WORKLOAD_LABEL, WORKLOADS, type WorkloadName } from '../x11/workloads.ts';
import type { BenchContext } from './context.ts';

/**
 * The desktops the workloads run on: every workload at 1280x720, and the video again at 1920x1080,
 * where it fills most of the screen below the test client's strip (1600x900 of 1920x1080).
 */
const DESKTOPS: ReadonlyArray<{
  width: number;
  height: number;
  workloads: readonly WorkloadName[];
  video: { width: number; height: number };
}> = [
  { width: 1280, height: 720, workloads: WORKLOADS, video: VIDEO_SIZE },
  { width: 1920, height: 1080, workloads: ['video'], video: { width: 1600, height: 900 } },
];
/** Time a workload runs before the window opens, so start-up and the first keyframe are left out, ms. */
const WARMUP_MS = 2_000;
/** Length of the measurement window per workload, ms. */
const WINDOW_MS = 10_000;
/** Second viewers that join the still desktop one after the other; the median is reported. */
const JOINS = 3;

/** What a viewer received and the desktop and relay spent over one measurement window. */
export interface WindowFigures {
  seconds: number;
  /** Pictures drawn on the viewer's canvas per second (Lifeline: decoded frames; noVNC: updates). */
  fps: number;
  /** Distinct video frames shown per second (the video workload, read from its frame counter). */
  contentFps: number | undefined;
  /** WebSocket payload received by the viewer, kbit/s. */
  kbps: number;
  /** Lifeline only: share of the bytes that were keyframes (one every 60 encoded frames). */
  keyframeShare: number | undefined;
  /** Lifeline only: access units per second the console skipped because its decoder fell behind. */
  skippedPerS: number;
  /** CPU of the desktop side (agent + ffmpeg, or x11vnc), seconds per second. */
  hostCpu: number;
  /** The same per process name. */
  hostCpuByProcess: Record<string, number>;
  /** CPU of the relay (the control plane, or websockify), seconds per second. */
  relayCpu: number;
}

export interface WorkloadFigures extends WindowFigures {
  system: System;
  workload: WorkloadName;
  /** The desktop's size, `1280x720` or `1920x1080` (results written before it existed: 1280x720). */
  resolution?: string;
  /**
   * Still desktop only: time from a second viewer's WebSocket opening to its first picture, in ms,
   * over JOINS joins (Lifeline: the relay's join, a keyframe asked of the agent; noVNC: the RFB
   * handshake and the first framebuffer update).
   */
  firstPicture?: Distribution;
  /** Lifeline only, still desktop: the same until its first video unit arrived, before decoding. */
  firstVideo?: Distribution;
}

/**
 * Measures `viewer` for `windowMs`: pictures drawn, distinct video frames (when `video`, read from
 * the frame counter the reader is pointed at), bytes received, CPU on the desktop and the relay.
 */
export async function measureWindow(
  viewer: Viewer,
  windowMs: number,
  video: boolean,
): Promise<WindowFigures> {
  const host = new CpuMeter(viewer.hostPids);
  const relay = new CpuMeter(viewer.relayPids);
  const before = await readCounters(viewer.page);
  host.start();
  relay.start();
  const startedAt = performance.now();
  await sleep(windowMs);
  const after = await readCounters(viewer.page);
  const seconds = (performance.now() - startedAt) / 1000;
  const hostCpuByProcess = host.sampleByName();
  return {
    seconds,
    fps: (after.frames - before.frames) / seconds,
    contentFps: video ? (after.changes - before.changes) / seconds : undefined,
    kbps: ((after.bytes - before.bytes) * 8) / 1000 / seconds,
    keyframeShare:
      viewer.system === 'lifeline' && after.bytes > before.bytes
        ? (after.keyframeBytes - before.keyframeBytes) / (after.bytes - before.bytes)
        : undefined,
    skippedPerS: (after.skipped - before.skipped) / seconds,
    hostCpu: Object.values(hostCpuByProcess).reduce((a, b) => a + b, 0),
    hostCpuByProcess,
    relayCpu: relay.sample(),
  };
}

/**
 * Frame rate and bandwidth at the viewer and CPU on the desktop and relay, for a still desktop,
 * typing, scrolling and a video at 1280x720 and a video at 1920x1080, with each system connected once
 * per desktop and the workloads in turn.
 * Figures are appended to `results` as they are measured.
 */
export async function runWorkloads(context: BenchContext, results: WorkloadFigures[]): Promise<void> {
  for (const size of DESKTOPS) await runDesktop(context, size, results);
}

async function runDesktop(
  context: BenchContext,
  { width, height, workloads, video: videoSize }: (typeof DESKTOPS)[number],
  results: WorkloadFigures[],
): Promise<void> {
  const windowMs = context.scaled(WINDOW_MS, 2_000);
  const resolution = `${width}x${height}`;
  const desktop = await startDesktop(width, height);
  try {
    for (const system of context.systems) {
      const viewer = await context.openViewer(system, desktop.display);
      try {
        for (const name of workloads) {
          context.log(`workloads: ${SYSTEM_LABEL[system]}, ${WORKLOAD_LABEL[name]}, ${resolution}`);
          const workload = await startWorkload(name, desktop.display, videoSize);
          try {
            const counter = workload.counter;
            await readCounterAt(viewer.page, counter?.x ?? null, counter?.y);
            if (counter) {
              await viewer.page
                .waitForFunction(() => window.benchPage.value !== undefined, undefined, { timeout: 15_000 })
                .catch(() => {
                  throw new BenchFailure(
                    `${SYSTEM_LABEL[system]} never showed the ${name} workload's frame counter`,
                  );
                });
            }
            await sleep(WARMUP_MS);
            const figures: WorkloadFigures = {
              system,
              workload: name,
              resolution,
              ...(await measureWindow(viewer, windowMs, counter !== undefined)),
            };
            if (name !== 'still') {
              ensure(
                figures.fps > 0,
                `${SYSTEM_LABEL[system]} showed no picture during ${WORKLOAD_LABEL[name]} at ${resolution}`,
              );
            }
            if (counter) {
              ensure(
                (figures.contentFps ?? 0) > 0,
                `${SYSTEM_LABEL[system]} showed no new video frame during ${WORKLOAD_LABEL[name]} at ${resolution}`,
              );
            }
            if (name === 'still') {
              const joins: FirstPicture[] = [];
              for (let i = 0; i < JOINS; i++) joins.push(await viewer.joinAnother());
              figures.firstPicture = distribution(joins.map((join) => join.drawnMs));
              const video = joins.flatMap((join) => (join.videoMs === undefined ? [] : [join.videoMs]));
              if (video.length) figures.firstVideo = distribution(video);
            }
            results.push(figures);
          } finally {
            await workload.stop();
          }
        }
      } finally {
        await viewer.stop();
      }
    }
  } finally {
    await desktop.stop();
  }
}

import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { CHROMIUM_PATH, launchChromium } from '../../tests/support/browser.ts';
import {
  type ConstrainedLink,
  type LinkCounters,
  type LinkShape,
  startConstrainedLink,
  THIN_LINK,
} from '../link/constrained-link.ts';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.ts';
import { type Distribution, distribution } from '../support/stats.ts';
import { readCounters } from '../viewers/instrumentation.ts';
import { openLifeline } from '../viewers/lifeline.ts';
import { type StaticServer, startStaticServer } from '../viewers/static-server.ts';
import { SYSTEM_LABEL, type System, type Viewer } from '../viewers/viewer.ts';
import { openVnc } from '../viewers/vnc.ts';
import { startDesktop } from '../x11/desktop.ts';
import { startWorkload } from '../x11/workloads.ts';
import type { BenchContext } from './context.ts';
import { measureInput } from './latency.ts';

/** The desktop across the link. */
const SIZE = { width: 1280, height: 720 };
/** Length of each phase, ms (issue 13: "held over 60 s of typing and of video"). */
const PHASE_MS = 60_000;
/** How often the queues towards the viewer are read, ms. */
const QUEUE_SAMPLE_MS = 250;
/** Seconds compared at the start and the end of a phase to tell whether its queue grew. */
const TREND_SECONDS = 10;
/**
 * A queue grew when its last seconds hold this much more than its first, in bytes: 64 KiB is an
 * eighth of a second at 4 Mbit/s, well above what a steady TCP flow keeps in flight over 60 ms.
 */
const GROWTH_BYTES = 64 * 1024;

/** What the operator does: types with nothing else moving, or types while a video plays. */
export type LinkPhase = 'typing' | 'video';
const PHASES: readonly LinkPhase[] = ['typing', 'video'];

export interface LinkFigures {
  system: System;
  phase: LinkPhase;
  link: LinkShape;
  seconds: number;
  /** Key press on the viewer to the picture showing it, ms. */
  inputToDisplay: Distribution & { lost: number; pressed: number };
  /** Pictures drawn per second on the viewer. */
  fps: number;
  /** WebSocket payload received by the viewer, kbit/s. */
  kbps: number;
  /** Lifeline only: access units the console skipped to catch up. */
  skipped: number;
  /**
   * Bytes waiting on the way to the viewer, the most seen in each second: the relay's own send
   * queue (Lifeline's per-operator queue; websockify's is not visible) plus the kernel's send queue
   * on the relay's sockets towards the viewer (unsent and unacknowledged, from /proc/net/tcp).
   */
  queueBytesPerSecond: number[];
  /** Most of the above. */
  maxQueueBytes: number;
  /** Whether the queue's last TREND_SECONDS held GROWTH_BYTES more than its first. */
  queueGrew: boolean;
  /** Lifeline only: what the console's quality panel said the adaptation chose at the end. */
  adaptation?: string | undefined;
}

/** The link's own counters over the whole part (both systems). */
export interface LinkReport {
  figures: LinkFigures[];
  counters?: LinkCounters | undefined;
}

/** `10.213.1.2` as /proc/net/tcp writes a remote address: the four bytes reversed, in hex. */
function procAddress(ipv4: string): string {
  return ipv4
    .split('.')
    .reverse()
    .map((part) => Number(part).toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
}

/** The kernel's send queue summed over this namespace's TCP sockets whose peer is `address`, bytes. */
function kernelSendQueue(address: string): number {
  const peer = procAddress(address);
  let bytes = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const remote = fields[2];
    const queues = fields[4];
    if (!remote?.startsWith(`${peer}:`) || !queues) continue;
    bytes += Number.parseInt(queues.split(':')[0] ?? '0', 16);
  }
  return bytes;
}

/** Samples the queues towards the viewer until stopped; answers the most per second. */
function watchQueues(
  link: ConstrainedLink,
  cp: ControlPlaneProcess | undefined,
): { stop(): Promise<number[]> } {
  const kernel: number[] = [];
  const startedAt = performance.now();
  const timer = setInterval(() => {
    const second = Math.floor((performance.now() - startedAt) / 1000);
    while (kernel.length <= second) kernel.push(0);
    kernel[second] = Math.max(kernel[second] ?? 0, kernelSendQueue(link.farAddress));
  }, QUEUE_SAMPLE_MS);
  const relay = cp?.bufferWatch('start');
  return {
    async stop() {
      clearInterval(timer);
      await relay;
      const relaySeries = cp ? (await cp.bufferWatch('stop')).operatorBytesPerSecond : [];
      return kernel.map((bytes, i) => bytes + (relaySeries[i] ?? 0));
    },
  };
}

function grew(series: readonly number[]): boolean {
  if (series.length < 2 * TREND_SECONDS) return false;
  const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return mean(series.slice(-TREND_SECONDS)) - mean(series.slice(0, TREND_SECONDS)) > GROWTH_BYTES;
}

/** A script that runs Chromium inside the link's far namespace, for Playwright to launch. */
function farSideChromium(link: ConstrainedLink): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-link-'));
  const path = join(dir, 'chromium');
  writeFileSync(path, `#!/bin/sh\nexec ip netns exec ${link.namespace} ${CHROMIUM_PATH} "$@"\n`);
  chmodSync(path, 0o755);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A help desk on a thin link: the viewer (Chromium) alone sits behind a 4 Mbit/s, 60 ms, 0.5 %-loss
 * line (`link/tun-link.py`), while the desktop, the agent or x11vnc, and the relay (control plane or
 * websockify) share this namespace, as a device and a hosted relay on good networks would. This is
 * where a queue can build up unseen — in the relay's per-operator queue and the kernel's send buffer
 * in front of the bottleneck — so it is where adaptation must act. For each system, 60 s of key
 * presses with nothing else moving, then 60 s of key presses while a video plays.
 */
export async function runLink(context: BenchContext, report: LinkReport): Promise<void> {
  if (process.getuid?.() !== 0) {
    context.log('link: skipped, needs root (ip netns, /dev/net/tun)');
    return;
  }
  const phaseMs = context.scaled(PHASE_MS, 12_000);
  const link = await startConstrainedLink(THIN_LINK, 13);
  const chromium = farSideChromium(link);
  let cp: ControlPlaneProcess | undefined;
  let pages: StaticServer | undefined;
  let browser: Browser | undefined;
  try {
    cp = await startControlPlaneProcess({ host: link.nearAddress });
    pages = await startStaticServer(link.nearAddress);
    // WebCodecs needs a secure context, which plain http to a non-loopback address is not.
    browser = await launchChromium([`--unsafely-treat-insecure-origin-as-secure=${cp.url}`], chromium.path);
    const desktop = await startDesktop(SIZE.width, SIZE.height);
    try {
      for (const system of context.systems) {
        const viewer: Viewer =
          system === 'lifeline'
            ? await openLifeline(browser, desktop.display, cp)
            : await openVnc(browser, desktop.display, pages, link.nearAddress);
        try {
          // The quality panel says what the adaptation chose; it is read at the end of each phase.
          if (system === 'lifeline') await viewer.page.click('[data-testid=stats]');
          for (const phase of PHASES) {
            context.log(`link: ${SYSTEM_LABEL[system]}, ${phase} for ${phaseMs / 1000} s`);
            const workload = phase === 'video' ? await startWorkload('video', desktop.display) : undefined;
            try {
              const queues = watchQueues(link, system === 'lifeline' ? cp : undefined);
              const before = await readCounters(viewer.page);
              const startedAt = performance.now();
              const input = await measureInput(viewer, desktop.probe, 0, phaseMs);
              const after = await readCounters(viewer.page);
              const seconds = (performance.now() - startedAt) / 1000;
              const series = await queues.stop();
              const adaptation =
                system === 'lifeline'
                  ? await viewer.page
                      .locator('[data-testid=quality-adaptation]')
                      .textContent({ timeout: 1_000 })
                      .catch(() => undefined)
                  : undefined;
              report.figures.push({
                system,
                phase,
                link: THIN_LINK,
                seconds,
                inputToDisplay: { ...distribution(input.samples), lost: input.lost, pressed: input.pressed },
                fps: (after.frames - before.frames) / seconds,
                kbps: ((after.bytes - before.bytes) * 8) / 1000 / seconds,
                skipped: after.skipped - before.skipped,
                queueBytesPerSecond: series,
                maxQueueBytes: Math.max(0, ...series),
                queueGrew: grew(series),
                adaptation: adaptation ?? undefined,
              });
            } finally {
              await workload?.stop();
            }
          }
        } finally {
          await viewer.stop();
        }
      }
    } finally {
      await desktop.stop();
    }
  } finally {
    await browser?.close().catch(() => {});
    await pages?.close();
    await cp?.stop();
    report.counters = await link.stop();
    chromium.remove();
  }
}

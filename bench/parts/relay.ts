import { type DirectServer, openRelayLink, startDirectServer, type VideoLink } from '../relay/links.ts';
import { login } from '../support/api.ts';
import type { ControlPlaneProcess } from '../support/control-plane-process.ts';
import { ensure } from '../support/failure.ts';
import { sleep } from '../support/net.ts';
import { CpuMeter, rssBytes } from '../support/processes.ts';
import { type Distribution, distribution, quantileSketch } from '../support/stats.ts';
import type { BenchContext } from './context.ts';

/** Frames per second of a synthetic session, as the agent's default. */
const FPS = 30;
/** Bit rate of a synthetic session: a busy desktop at 1080p. */
const SESSION_BITS_PER_S = 2_000_000;
const FRAME_BYTES = Math.round(SESSION_BITS_PER_S / 8 / FPS);
/** Concurrent sessions measured. */
const LOADS = [10, 50, 100];
/** Payload of one frame in the throughput test: a large keyframe. */
const THROUGHPUT_FRAME_BYTES = 64 * 1024;
/** The sender stops queueing past this many bytes in its socket. */
const SENDER_QUEUE_BYTES = 4 * 1024 * 1024;
/** Bytes in flight end to end in the throughput test. */
const THROUGHPUT_WINDOW_BYTES = 1024 * 1024;
/**
 * Time each paced run sends before its window opens, and the window itself, in ms. The warm-up
 * also lets the control plane finish the database writes that follow each session's consent.
 */
const WARMUP_MS = 2_000;
const WINDOW_MS = 5_000;
const THROUGHPUT_MS = 3_000;
/** Sessions opened at once while setting up a load. */
const OPEN_CONCURRENCY = 5;
/** The slow reader: offered rate, how long, and how it reads (a few ms every half second). */
const SLOW = {
  bytesPerS: 20 * 1024 * 1024,
  frameBytes: 128 * 1024,
  ms: 8_000,
  readEveryMs: 500,
  readForMs: 5,
};
/** Growth of the relay's resident memory past which it counts as unbounded, in bytes. */
const MAX_SLOW_READER_GROWTH_BYTES = 96 * 1024 * 1024;

export interface PacedFigures {
  sessions: number;
  /** One-way latency sender to receiver, ms. */
  latency: Distribution;
  /** Frames the receivers got / frames the senders sent in the window. */
  delivered: number;
  /** CPU of the relay process, seconds per second (direct runs: 0, nothing in between). */
  relayCpu: number;
  /** How late the relay's event loop ran, p99 and max in the window, ms (direct runs: none). */
  relayLoopDelay?: { p99: number; max: number };
}

export interface RelayFigures {
  /** One session at 2 Mbit/s: direct loopback WebSocket vs through the relay. */
  single: { direct: PacedFigures; relay: PacedFigures; addedP50Ms: number; addedP99Ms: number };
  /** One sender as fast as the receiver takes it (1 MiB window), 64 KiB frames, MB/s received. */
  throughput: {
    directMBps: number;
    relayMBps: number;
    relayCpu: number;
    /** The relay's CPU cost of forwarding, seconds per GB: its capacity whatever limits the test. */
    relayCpuSecondsPerGB: number;
    relayDropped: number;
  };
  /** N sessions at 2 Mbit/s each. */
  loads: Array<{ direct: PacedFigures; relay: PacedFigures; addedP99Ms: number }>;
  slowReader: {
    seconds: number;
    offeredMB: number;
    receivedMB: number;
    rssBeforeMB: number;
    rssPeakMB: number;
    droppedFrames: number;
    disconnected: boolean;
    recovered: boolean;
  };
  /** Latency distributions through the relay, as 201 evenly spaced quantiles each. */
  samples: { single: number[]; loads: Record<number, number[]> };
}

async function openMany(count: number, open: () => Promise<VideoLink>): Promise<VideoLink[]> {
  const links: VideoLink[] = [];
  try {
    for (let i = 0; i < count; i += OPEN_CONCURRENCY) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(OPEN_CONCURRENCY, count - i) }, () => open()),
      );
      links.push(...batch);
    }
  } catch (error) {
    await closeAll(links);
    throw error;
  }
  return links;
}

async function closeAll(links: VideoLink[]): Promise<void> {
  await Promise.all(links.map((link) => link.close()));
}

/**
 * Every link sends FRAME_BYTES at FPS, start times spread over one frame interval as independent
 * agents would be; latencies are collected in the window after the warm-up.
 */
async function paced(
  links: VideoLink[],
  windowMs: number,
  relay: ControlPlaneProcess | undefined,
): Promise<{ figures: PacedFigures; samples: number[] }> {
  const samples: number[] = [];
  let collecting = false;
  for (const link of links) {
    link.onFrame = (latency) => {
      if (collecting) samples.push(latency);
    };
  }
  const intervalMs = 1000 / FPS;
  const timers: NodeJS.Timeout[] = [];
  links.forEach((link, i) => {
    timers.push(
      setTimeout(
        () => {
          link.send(FRAME_BYTES);
          timers.push(setInterval(() => link.send(FRAME_BYTES), intervalMs));
        },
        (i * intervalMs) / links.length,
      ),
    );
  });
  const cpu = new CpuMeter(() => (relay ? [relay.pid] : []));
  try {
    await sleep(WARMUP_MS);
    const sentBefore = links.reduce((n, link) => n + link.counts.sent, 0);
    const receivedBefore = links.reduce((n, link) => n + link.counts.received, 0);
    await relay?.stats({ reset: true });
    collecting = true;
    cpu.start();
    await sleep(windowMs);
    const relayCpu = cpu.sample();
    const loop = (await relay?.stats())?.eventLoopDelay;
    const sent = links.reduce((n, link) => n + link.counts.sent, 0) - sentBefore;
    for (const timer of timers) clearTimeout(timer);
    // Frames in flight when the window closes still count: give them a moment to arrive.
    await sleep(300);
    collecting = false;
    const received = links.reduce((n, link) => n + link.counts.received, 0) - receivedBefore;
    return {
      figures: {
        sessions: links.length,
        latency: distribution(samples),
        delivered: sent ? Math.min(1, received / sent) : 0,
        relayCpu,
        ...(loop ? { relayLoopDelay: { p99: loop.p99, max: loop.max } } : {}),
      },
      samples,
    };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    for (const link of links) link.onFrame = undefined;
  }
}

/**
 * Sends 64 KiB frames as fast as the receiver takes them: at most THROUGHPUT_WINDOW_BYTES in flight
 * end to end (an application-level window, below the relay's 2 MiB drop threshold, so a receiver
 * sharing this process with the sender is not taken for a slow reader). Returns MB/s received.
 */
async function throughput(link: VideoLink, durationMs: number): Promise<number> {
  let received = 0;
  link.onFrame = (_latency, size) => {
    received += size;
  };
  let sent = 0;
  const started = performance.now();
  const end = started + durationMs;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent - received < THROUGHPUT_WINDOW_BYTES && performance.now() < end) {
        link.send(THROUGHPUT_FRAME_BYTES);
        sent += THROUGHPUT_FRAME_BYTES;
      }
      if (performance.now() < end) setImmediate(pump);
      else resolve();
    };
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  const total = received;
  await sleep(500);
  link.onFrame = undefined;
  return total / 1e6 / seconds;
}

async function slowReader(cp: ControlPlaneProcess, cookie: string): Promise<RelayFigures['slowReader']> {
  const link = await openRelayLink(cp.url, cookie);
  try {
    let received = 0;
    link.onFrame = (_latency, size) => {
      received += size;
    };
    await sleep(500);
    const before = await cp.stats();
    const rssBefore = rssBytes(cp.pid);
    let rssPeak = rssBefore;
    link.receiver.pause();
    const reader = setInterval(() => {
      link.receiver.resume();
      setTimeout(() => link.receiver.pause(), SLOW.readForMs);
    }, SLOW.readEveryMs);
    const framesPerTick = 4;
    const tickMs = (1000 * SLOW.frameBytes * framesPerTick) / SLOW.bytesPerS;
    let offered = 0;
    const sender = setInterval(() => {
      for (let i = 0; i < framesPerTick; i++) {
        if (link.senderBuffered() > SENDER_QUEUE_BYTES) break;
        link.send(SLOW.frameBytes);
        offered += SLOW.frameBytes;
      }
    }, tickMs);
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssBytes(cp.pid));
    }, 100);
    await sleep(SLOW.ms);
    clearInterval(sender);
    clearInterval(reader);
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, rssBytes(cp.pid));
    const after = await cp.stats();
    const receivedAtEnd = received;
    // Read normally again at the normal rate: the backlog drains, then a keyframe and fresh pictures
    // must follow. Fresh means sent less than a second ago.
    let fresh = 0;
    link.onFrame = (latency, size) => {
      received += size;
      if (latency < 1_000) fresh++;
    };
    link.receiver.resume();
    const normal = setInterval(() => link.send(FRAME_BYTES), 1000 / FPS);
    await sleep(2_500);
    clearInterval(normal);
    const disconnected = link.closedWith !== undefined;
    return {
      seconds: SLOW.ms / 1000,
      offeredMB: offered / 1e6,
      receivedMB: receivedAtEnd / 1e6,
      rssBeforeMB: rssBefore / 1e6,
      rssPeakMB: rssPeak / 1e6,
      droppedFrames: after.relay.droppedVideoFrames - before.relay.droppedVideoFrames,
      disconnected,
      recovered: !disconnected && fresh > 0,
    };
  } finally {
    await link.close();
  }
}

/** Waits until the relay has let go of every session (they end when their sockets close). */
async function waitForIdleRelay(cp: ControlPlaneProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await cp.stats()).relay.sessions === 0) return;
    await sleep(100);
  }
}

/**
 * The relay against a direct loopback WebSocket: per-frame latency and throughput for one session,
 * latency and relay CPU for 10, 50 and 100 concurrent sessions at 2 Mbit/s, and its memory with a
 * reader that barely reads. The relay runs in its own process; the synthetic agents and operators
 * (and the direct baseline) run in this one.
 */
export async function runRelay(context: BenchContext): Promise<RelayFigures> {
  await context.restartControlPlane();
  const cp = await context.controlPlane();
  const cookie = await login(cp.url, cp.username, cp.password);
  const direct: DirectServer = await startDirectServer();
  const windowMs = context.scaled(WINDOW_MS, 1_500);
  try {
    context.log('relay: one session, direct and through the relay');
    const [directLink] = await openMany(1, () => direct.open());
    const [relayLink] = await openMany(1, () => openRelayLink(cp.url, cookie));
    let single: RelayFigures['single'];
    let throughputFigures: RelayFigures['throughput'];
    const singleSamples: number[] = [];
    try {
      const d = await paced([directLink!], windowMs, undefined);
      const r = await paced([relayLink!], windowMs, cp);
      ensure(r.samples.length > 0, 'the relay forwarded no video frame');
      singleSamples.push(...r.samples);
      single = {
        direct: d.figures,
        relay: r.figures,
        addedP50Ms: r.figures.latency.p50 - d.figures.latency.p50,
        addedP99Ms: r.figures.latency.p99 - d.figures.latency.p99,
      };
      context.log('relay: throughput');
      const throughputMs = context.scaled(THROUGHPUT_MS, 1_000);
      const droppedBefore = (await cp.stats()).relay.droppedVideoFrames;
      const directMBps = await throughput(directLink!, throughputMs);
      const cpu = new CpuMeter(() => [cp.pid]);
      cpu.start();
      const relayMBps = await throughput(relayLink!, throughputMs);
      const relayCpu = cpu.sample();
      ensure(relayMBps > 0, 'nothing came through the relay in the throughput test');
      throughputFigures = {
        directMBps,
        relayMBps,
        relayCpu,
        relayCpuSecondsPerGB: (relayCpu / relayMBps) * 1000,
        relayDropped: (await cp.stats()).relay.droppedVideoFrames - droppedBefore,
      };
    } finally {
      await closeAll([directLink!, relayLink!]);
    }
    await waitForIdleRelay(cp);

    const loads: RelayFigures['loads'] = [];
    const loadSamples: Record<number, number[]> = {};
    for (const sessions of LOADS) {
      context.log(`relay: ${sessions} sessions at ${SESSION_BITS_PER_S / 1e6} Mbit/s each`);
      const directLinks = await openMany(sessions, () => direct.open());
      let d: Awaited<ReturnType<typeof paced>>;
      try {
        d = await paced(directLinks, windowMs, undefined);
      } finally {
        await closeAll(directLinks);
      }
      const relayLinks = await openMany(sessions, () => openRelayLink(cp.url, cookie));
      let r: Awaited<ReturnType<typeof paced>>;
      try {
        r = await paced(relayLinks, windowMs, cp);
      } finally {
        await closeAll(relayLinks);
      }
      ensure(r.samples.length > 0, `the relay forwarded nothing with ${sessions} sessions`);
      loads.push({
        direct: d.figures,
        relay: r.figures,
        addedP99Ms: r.figures.latency.p99 - d.figures.latency.p99,
      });
      loadSamples[sessions] = quantileSketch(r.samples);
      await waitForIdleRelay(cp);
    }

    context.log('relay: memory with a slow reader');
    const slow = await slowReader(cp, cookie);
    ensure(
      slow.rssPeakMB - slow.rssBeforeMB < MAX_SLOW_READER_GROWTH_BYTES / 1e6,
      `the relay's memory grew by ${Math.round(slow.rssPeakMB - slow.rssBeforeMB)} MB with a slow reader: it is not bounded`,
    );
    ensure(
      slow.droppedFrames > 0 || slow.disconnected,
      'the relay neither dropped video nor disconnected a reader that could not keep up',
    );
    ensure(
      slow.recovered || slow.disconnected,
      'a reader that caught up again got no fresh video from the relay (and was not disconnected either)',
    );
    return {
      single,
      throughput: throughputFigures,
      loads,
      slowReader: slow,
      samples: { single: quantileSketch(singleSamples), loads: loadSamples },
    };
  } finally {
    await direct.close();
    await context.restartControlPlane();
  }
}

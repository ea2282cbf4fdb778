/**
 * A real control plane in its own process, so its CPU and memory can be read from /proc apart from
 * the load the benchmark generates. Started by `startControlPlaneProcess`; talks over the IPC channel:
 * it sends `{ type: 'ready', url }`, answers `{ type: 'stats', id }` with the relay's counters and
 * its memory, and stops on `{ type: 'stop' }` or when the parent goes away.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LiveSession } from '../../control-plane/relay/live-session.ts';
import { startControlPlane } from '../../tests/support/control-plane.ts';

export interface ControlPlaneStats {
  type: 'stats';
  id: number;
  relay: ReturnType<Awaited<ReturnType<typeof startControlPlane>>['services']['relay']['stats']>;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  /** How late the event loop ran timers since the last `reset` request, ms: a stalled relay shows here. */
  eventLoopDelay: { p50: number; p99: number; max: number };
}

/**
 * The most bytes the relay had queued for any operator connection (and for any agent) while a
 * watch ran, sampled every BUFFER_SAMPLE_MS; `reachable` is false when the relay's sessions could
 * not be read.
 */
export interface BufferWatch {
  type: 'buffer-watch';
  id: number;
  reachable: boolean;
  maxOperatorBytes: number;
  maxAgentBytes: number;
  /** The most bytes queued for any operator connection in each second of the watch, oldest first. */
  operatorBytesPerSecond: number[];
  samples: number;
}

/** How often a buffer watch samples the relay's queues, in ms. */
const BUFFER_SAMPLE_MS = 5;

/** Resolution of the event-loop delay histogram, in ms. */
const DELAY_RESOLUTION_MS = 5;
const delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
delay.enable();

const send = (message: unknown) => process.send?.(message);
// Every synthetic agent and operator connects from loopback: the relay benchmark holds 200 sockets.
// BENCH_CONTROL_PLANE_HOST: the address to listen on and be reached at (the thin link's near end).
const host = process.env['BENCH_CONTROL_PLANE_HOST'];
const cp = await startControlPlane({
  listen: true,
  env: { LIFELINE_MAX_SOCKETS_PER_ADDRESS: '100000' },
  ...(host ? { host } : {}),
});

/**
 * The relay's live sessions. A benchmark-only look at a private field: the relay exposes counters,
 * not its queues, and this is the figure the channels benchmark bounds.
 */
function liveSessions(): Map<string, LiveSession> | undefined {
  const sessions = (cp.services.relay as unknown as { sessions?: unknown }).sessions;
  return sessions instanceof Map ? (sessions as Map<string, LiveSession>) : undefined;
}

let watch: { timer: NodeJS.Timeout; result: Omit<BufferWatch, 'type' | 'id'> } | undefined;

function startWatch(): void {
  if (watch) clearInterval(watch.timer);
  const result = {
    reachable: liveSessions() !== undefined,
    maxOperatorBytes: 0,
    maxAgentBytes: 0,
    operatorBytesPerSecond: [] as number[],
    samples: 0,
  };
  const startedAt = performance.now();
  const sample = () => {
    const sessions = liveSessions();
    if (!sessions) return;
    for (const session of sessions.values()) {
      result.maxAgentBytes = Math.max(result.maxAgentBytes, session.agent.peer.bufferedAmount());
      for (const operator of session.operators.values()) {
        const queued = operator.peer.bufferedAmount();
        result.maxOperatorBytes = Math.max(result.maxOperatorBytes, queued);
        const second = Math.floor((performance.now() - startedAt) / 1000);
        const series = result.operatorBytesPerSecond;
        while (series.length <= second) series.push(0);
        series[second] = Math.max(series[second] ?? 0, queued);
      }
    }
    result.samples++;
  };
  watch = { timer: setInterval(sample, BUFFER_SAMPLE_MS), result };
  sample();
}

function stopWatch(id: number): void {
  if (watch) clearInterval(watch.timer);
  const result = watch?.result ?? {
    reachable: false,
    maxOperatorBytes: 0,
    maxAgentBytes: 0,
    operatorBytesPerSecond: [],
    samples: 0,
  };
  watch = undefined;
  send({ type: 'buffer-watch', id, ...result } satisfies BufferWatch);
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // A hung shutdown must not keep the process alive: the parent waits for it to exit.
  setTimeout(() => process.exit(0), 5_000).unref();
  await cp.stop().catch(() => {});
  process.exit(0);
}

process.on('message', (message: { type?: string; id?: number; reset?: boolean; action?: string }) => {
  if (message.type === 'buffer-watch') {
    if (message.action === 'start') {
      startWatch();
      send({ type: 'buffer-watch', id: message.id ?? 0, ...(watch?.result ?? {}) });
    } else {
      stopWatch(message.id ?? 0);
    }
  } else if (message.type === 'stats') {
    const memory = process.memoryUsage();
    // The histogram is in ns and includes the sampling resolution itself.
    const ms = (ns: number) => Math.max(0, ns / 1e6 - DELAY_RESOLUTION_MS);
    send({
      type: 'stats',
      id: message.id ?? 0,
      relay: cp.services.relay.stats(),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      externalBytes: memory.external + memory.arrayBuffers,
      eventLoopDelay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
    } satisfies ControlPlaneStats);
    if (message.reset) delay.reset();
  } else if (message.type === 'stop') {
    void stop();
  }
});
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
send({ type: 'ready', url: cp.url });

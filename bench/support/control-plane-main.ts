/**
 * A real control plane in its own process, so its CPU and memory can be read from /proc apart from
 * the load the benchmark generates. Started by `startControlPlaneProcess`; talks over the IPC channel:
 * it sends `{ type: 'ready', url }`, answers `{ type: 'stats', id }` with the relay's counters and
 * its memory, and stops on `{ type: 'stop' }` or when the parent goes away.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
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

/** Resolution of the event-loop delay histogram, in ms. */
const DELAY_RESOLUTION_MS = 5;
const delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
delay.enable();

const send = (message: unknown) => process.send?.(message);
const cp = await startControlPlane({ listen: true });

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // A hung shutdown must not keep the process alive: the parent waits for it to exit.
  setTimeout(() => process.exit(0), 5_000).unref();
  await cp.stop().catch(() => {});
  process.exit(0);
}

process.on('message', (message: { type?: string; id?: number; reset?: boolean }) => {
  if (message.type === 'stats') {
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

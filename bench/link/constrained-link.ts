import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sleep } from '../support/net.ts';
import { type Managed, startProcess } from '../support/processes.ts';

const FORWARDER = fileURLToPath(new URL('./tun-link.py', import.meta.url));
/** How long the forwarder may take to create the namespace and both interfaces, in ms. */
const READY_TIMEOUT_MS = 10_000;
/** How long it may take to print its counters after SIGTERM, in ms. */
const STOP_TIMEOUT_MS = 5_000;

/** The link issue 13 asks for: a help desk's thin line. */
export const THIN_LINK: LinkShape = { rateKbit: 4_000, rttMs: 60, loss: 0.005, queueMs: 100 };

export interface LinkShape {
  /** Bottleneck rate each way, kbit/s. */
  rateKbit: number;
  /** Round trip added by the link (half of it each way), ms. */
  rttMs: number;
  /** Share of packets lost at random, each way. */
  loss: number;
  /** Bottleneck queue each way, as ms of traffic at `rateKbit`; a packet arriving at a full queue is dropped. */
  queueMs: number;
}

/** What one direction of the link did. */
export interface DirectionCounters {
  packets: number;
  delivered: number;
  droppedLoss: number;
  droppedQueueFull: number;
  maxQueuedBytes: number;
}

/** Outward: from this namespace into the far one; inward: back. */
export interface LinkCounters {
  outward: DirectionCounters;
  inward: DirectionCounters;
}

/** A running link; `far` is reached from here at `farAddress`, and reaches back at `nearAddress`. */
export interface ConstrainedLink {
  namespace: string;
  nearAddress: string;
  farAddress: string;
  /** `command args` prefixed so it runs inside the far namespace (`ip netns exec`). */
  inFarSide(command: string, args: readonly string[]): [string, string[]];
  /** Stops the forwarder, removes the namespace and its interfaces, and answers what the link did. */
  stop(): Promise<LinkCounters | undefined>;
}

let links = 0;

/**
 * Starts `tun-link.py` (root only): a new network namespace joined to this one by two TUN devices
 * with an emulated bottleneck between them. The namespace is removed when the link stops, and
 * again here whatever the forwarder managed, so a failed run leaves no interface behind.
 *
 * @example
 * const link = await startConstrainedLink(THIN_LINK);
 * try {
 *   const [command, args] = link.inFarSide('chromium', ['--headless']);
 * } finally {
 *   await link.stop();
 * }
 */
export async function startConstrainedLink(shape: LinkShape, seed?: number): Promise<ConstrainedLink> {
  links++;
  const namespace = `lifeline-link-${process.pid}-${links}`;
  // One /30 per link so two links in one run never share addresses.
  const subnet = `10.213.${links % 250}`;
  const nearAddress = `${subnet}.1`;
  const farAddress = `${subnet}.2`;
  const queueBytes = Math.max(3_000, Math.round(((shape.rateKbit * 1000) / 8) * (shape.queueMs / 1000)));
  const forwarder: Managed = startProcess('tun-link', 'python3', [
    FORWARDER,
    ...['--namespace', namespace, '--near-address', nearAddress, '--far-address', farAddress],
    ...['--rate-kbit', String(shape.rateKbit), '--delay-ms', String(shape.rttMs / 2)],
    ...['--loss', String(shape.loss), '--queue-bytes', String(queueBytes)],
    ...(seed === undefined ? [] : ['--seed', String(seed)]),
  ]);
  let counters: LinkCounters | undefined;
  let ready = false;
  const lines = forwarder.onLine((line) => {
    if (line === 'ready') ready = true;
    else if (line.startsWith('{')) counters = JSON.parse(line) as LinkCounters;
  });
  const removeNamespace = () => {
    try {
      execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
    } catch {
      // Already gone: the forwarder removed it.
    }
  };
  const stop = async () => {
    const printed = forwarder.exited.then(() => counters);
    await forwarder.stop();
    const result = await Promise.race([
      printed,
      new Promise<undefined>((r) => setTimeout(r, STOP_TIMEOUT_MS)),
    ]);
    lines();
    removeNamespace();
    return result;
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!ready) {
    const exited = await Promise.race([forwarder.exited.then(() => true), sleep(50).then(() => false)]);
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(
        `the link emulator did not start (needs root, ip and /dev/net/tun):\n${forwarder.output()}`,
      );
    }
  }
  return {
    namespace,
    nearAddress,
    farAddress,
    inFarSide: (command, args) => ['ip', ['netns', 'exec', namespace, command, ...args]],
    stop,
  };
}

import { FILE_WINDOW_BYTES } from '../../protocol/index.ts';
import type { ControlPlaneProcess } from '../support/control-plane-process.ts';
import { ensure } from '../support/failure.ts';
import { sleep } from '../support/net.ts';
import { rssBytes } from '../support/processes.ts';
import type { OperatorClient } from './operator-client.ts';
import { download } from './transfers.ts';

const MiB = 1024 * 1024;
/** How long the slow operator is slow, in ms, unless the caller says otherwise. */
export const SLOW_MS = 6_000;
/**
 * The slow operator reads for `readForMs` every `everyMs`, then normally until the end. A paused
 * socket stops reading from TCP, so what the agent sends backs up into the relay.
 */
const SLOW = { everyMs: 200, readForMs: 2 };
/**
 * Most bytes the relay may queue for the slow operator: the window, plus frame headers and the few
 * control messages of the transfer.
 */
const MAX_SLOW_QUEUE_BYTES = FILE_WINDOW_BYTES + 64 * 1024;
/**
 * Growth of the relay's RSS that counts as unbounded when its queues cannot be read, in bytes: half
 * the full run's file (RSS also follows garbage collection, so the bound is loose).
 */
const MAX_SLOW_RSS_GROWTH_BYTES = 32 * MiB;

/** A download to an operator that reads a few ms every 200 ms, then normally. */
export interface SlowReaderFigures {
  slowSeconds: number;
  /** Read during the slow phase. */
  slowReadMiB: number;
  /** Where `maxQueuedBytes` comes from. */
  queueSource: 'relay send queues (services.relay, sampled every 5 ms)' | 'relay RSS growth';
  /** Most bytes the relay had queued for the slow operator. */
  maxQueuedBytes: number;
  /** How many times the relay's queues were sampled (0 when they could not be read). */
  queueSamples: number;
  /** Most bytes the relay had queued for the agent meanwhile (file-acks only). */
  maxAgentQueuedBytes: number;
  relayRssBeforeMiB: number;
  relayRssPeakMiB: number;
  /** The file still arrived whole and the operator was not disconnected (else the run fails). */
  intact: true;
}

/**
 * Downloads `path` to an operator that reads a few ms every 200 ms for `slowMs`, then normally,
 * while the relay's send queues are sampled. The file must arrive whole, the operator must not be
 * disconnected, and the relay may queue for it no more than the window (or, when its queues cannot
 * be read, grow by no more than MAX_SLOW_RSS_GROWTH_BYTES); anything else is a `BenchFailure`.
 */
export async function slowReader(
  cp: ControlPlaneProcess,
  operator: OperatorClient,
  path: string,
  expected: string,
  slowMs: number,
): Promise<SlowReaderFigures> {
  await cp.bufferWatch('start');
  const rssBefore = rssBytes(cp.pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssBytes(cp.pid));
  }, 50);
  let received = 0;
  let slow = true;
  operator.socket.pause();
  const reader = setInterval(() => {
    operator.socket.resume();
    setTimeout(() => {
      if (slow) operator.socket.pause();
    }, SLOW.readForMs);
  }, SLOW.everyMs);
  let slowRead = 0;
  try {
    const transfer = download(operator, path, expected, (bytes) => {
      received = bytes;
    });
    const settled = transfer.then(
      () => undefined,
      () => undefined,
    );
    await Promise.race([sleep(slowMs), settled]);
    slowRead = received;
    slow = false;
    clearInterval(reader);
    operator.socket.resume();
    await transfer;
  } finally {
    slow = false;
    clearInterval(reader);
    clearInterval(sampler);
    operator.socket.resume();
  }
  rssPeak = Math.max(rssPeak, rssBytes(cp.pid));
  const watch = await cp.bufferWatch('stop');
  ensure(
    operator.closedWith === undefined,
    `the relay disconnected the slow operator (${operator.closedWith})`,
  );
  const figures: SlowReaderFigures = {
    slowSeconds: slowMs / 1000,
    slowReadMiB: slowRead / MiB,
    queueSource: watch.reachable
      ? 'relay send queues (services.relay, sampled every 5 ms)'
      : 'relay RSS growth',
    maxQueuedBytes: watch.reachable ? watch.maxOperatorBytes : Math.max(0, rssPeak - rssBefore),
    queueSamples: watch.samples,
    maxAgentQueuedBytes: watch.maxAgentBytes,
    relayRssBeforeMiB: rssBefore / MiB,
    relayRssPeakMiB: rssPeak / MiB,
    intact: true,
  };
  if (watch.reachable) {
    ensure(
      figures.maxQueuedBytes <= MAX_SLOW_QUEUE_BYTES,
      `the relay queued ${figures.maxQueuedBytes} bytes for a slow operator: more than the ${FILE_WINDOW_BYTES}-byte window`,
    );
  } else {
    ensure(
      rssPeak - rssBefore <= MAX_SLOW_RSS_GROWTH_BYTES,
      `the relay's memory grew by ${Math.round((rssPeak - rssBefore) / MiB)} MiB with a slow operator`,
    );
  }
  return figures;
}

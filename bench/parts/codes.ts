import { login, type Registration, redeem, register } from '../support/api.ts';
import { nextAgentAddress } from '../support/net.ts';
import { type Distribution, distribution } from '../support/stats.ts';
import type { BenchContext } from './context.ts';

/** Codes issued and then redeemed. */
const CODES = 300;
/** Requests in flight at once, as many agents and operators would send. */
const CONCURRENCY = 8;

export interface CodeFigures {
  codes: number;
  concurrency: number;
  /** `POST /api/agent/register` per second (each issues a session and a connection code). */
  issuedPerS: number;
  /** `POST /api/sessions/redeem` per second, by a logged-in operator. */
  redeemedPerS: number;
  issueLatency: Distribution;
  redeemLatency: Distribution;
}

/** Runs `task(i)` for i < count with `concurrency` in flight; returns per-task ms and the total s. */
async function timed(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const at = performance.now();
        await task(i);
        latencies.push(performance.now() - at);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

/**
 * Connection codes issued and redeemed per second through the HTTP API, on a fresh control plane
 * (its libSQL file, hashing of codes, signing of relay tokens, audit records: the whole path).
 * Synthetic agents register from many loopback addresses, as agents on many machines would, so the
 * per-address registration throttle is not what is measured.
 */
export async function runCodes(context: BenchContext): Promise<CodeFigures> {
  await context.restartControlPlane();
  const cp = await context.controlPlane();
  try {
    const count = context.scaled(CODES, 20);
    const cookie = await login(cp.url, cp.username, cp.password);
    const registrations: Registration[] = [];
    const addresses = Array.from({ length: count }, () => nextAgentAddress());
    context.log(`codes: issuing ${count}`);
    const issued = await timed(count, CONCURRENCY, async (i) => {
      registrations[i] = await register(cp.url, addresses[i]!);
    });
    context.log(`codes: redeeming ${count}`);
    const redeemed = await timed(count, CONCURRENCY, async (i) => {
      await redeem(cp.url, cookie, registrations[i]!.code);
    });
    return {
      codes: count,
      concurrency: CONCURRENCY,
      issuedPerS: count / issued.seconds,
      redeemedPerS: count / redeemed.seconds,
      issueLatency: distribution(issued.latencies),
      redeemLatency: distribution(redeemed.latencies),
    };
  } finally {
    await context.restartControlPlane();
  }
}

import { createConnection, createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on `host`:`port`; rejects after `timeoutMs`. */
export async function waitForPort(
  port: number,
  what: string,
  timeoutMs = 10_000,
  host = '127.0.0.1',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not listen on ${host}:${port} within ${timeoutMs} ms`);
}

/** Loopback addresses handed out so far; each serves at most `ADDRESS_USES` registrations. */
let addressesUsed = 0;
let usesOfCurrent = 0;
/**
 * Registrations per source address, below the control plane's free allowance per address (30 a
 * minute): the benchmark measures the server, not its throttle.
 */
const ADDRESS_USES = 25;

/**
 * A loopback source address (127.0.1.x, 127.0.2.x, …) for the next synthetic agent, so that many
 * synthetic agents look like many machines to the per-address registration throttle. All of
 * 127.0.0.0/8 is loopback on Linux.
 */
export function nextAgentAddress(): string {
  if (usesOfCurrent >= ADDRESS_USES || addressesUsed === 0) {
    addressesUsed++;
    usesOfCurrent = 0;
  }
  usesOfCurrent++;
  const n = addressesUsed;
  return `127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;
}

/** Milliseconds since the Unix epoch with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

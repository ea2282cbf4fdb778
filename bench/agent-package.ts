/**
 * The one-shot agent as an end user gets it: how big the download is, and how long from double-click
 * to a code to read out and to the first picture at the operator.
 *
 * `runAgentPackageBench()` is a part for bench/main.ts; `npx tsx bench/agent-package.ts` runs it alone
 * and prints the figures as JSON. Needs Xvfb and ffmpeg's x11grab like the end-to-end tests.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildAgentExecutable, type ExecutableManifest } from '../build/agent/build-executable.ts';
import { precompressExecutable } from '../build/agent/precompress.ts';
import { connectOperator } from '../tests/control-plane/relay-client.ts';
import { startControlPlane, type TestControlPlane } from '../tests/support/control-plane.ts';
import { type Spawned, spawnCollecting, waitFor } from '../tests/support/processes.ts';
import { startXvfb } from '../tests/support/xvfb.ts';

/** Launches measured per figure; the median is reported. */
const RUNS = 5;
const CODE = /(\d{3} \d{3} \d{3})/;
const DIST = new URL('../dist/agent/', import.meta.url).pathname;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Builds (or rebuilds) both executables and their gzip copies; returns the manifests. */
export async function buildBoth(): Promise<Record<'linux' | 'windows', ExecutableManifest>> {
  const linux = await buildAgentExecutable('linux-x64');
  const windows = await buildAgentExecutable('win-x64');
  return { linux, windows };
}

/** The two executables as the bench names them, with their download route's platform. */
const PLATFORMS = [
  ['linux', 'linux-x64'],
  ['windows', 'win-x64'],
] as const;

/**
 * What an end user downloads, in bytes, for both executables: as built (`<name>ExecutableBytes`) and
 * as the control plane at `url` serves it gzip-compressed, stamp included (`<name>DownloadGzipBytes`).
 */
export async function downloadSizes(
  url: string,
  built: Record<'linux' | 'windows', ExecutableManifest>,
): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  for (const [name, platform] of PLATFORMS) {
    figures[`${name}ExecutableBytes`] = built[name].size;
    await precompressExecutable(join(DIST, built[name].fileName), built[name].sha256);
    const response = await fetch(`${url}/download/agent/${platform}`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    if (response.headers.get('content-encoding') !== 'gzip')
      throw new Error(`the ${platform} download was not served gzip-compressed`);
    figures[`${name}DownloadGzipBytes`] = Number(response.headers.get('content-length'));
    await response.body?.cancel();
  }
  return figures;
}

/**
 * Sizes (bytes) of both executables as built and as served gzip-compressed (stamp included), then,
 * on an Xvfb display against a local control plane, the median of {@link RUNS} launches of a
 * downloaded (stamped) Linux executable:
 * - `launchToCodeMs`: spawn until the code is on the terminal (stamp verified, assets unpacked,
 *   registered);
 * - `launchToCodeUnstampedMs`: the same with `--server` and no stamp, to show what verifying costs;
 * - `launchToFirstFrameMs`: spawn until an operator that redeemed the code as soon as it appeared
 *   receives the first video frame.
 */
export async function runAgentPackageBench(): Promise<Record<string, number>> {
  const built = await buildBoth();
  const xvfb = await startXvfb({ width: 1280, height: 720 });
  let cp: TestControlPlane | undefined;
  const scratch = mkdtempSync(join(tmpdir(), 'lifeline-bench-agent-'));
  const agents: Spawned[] = [];
  try {
    cp = await startControlPlane({ listen: true });
    const figures = await downloadSizes(cp.url, built);

    const response = await fetch(`${cp.url}/download/agent/linux-x64`);
    const stamped = Buffer.from(await response.arrayBuffer());
    const unstamped = readFileSync(join(DIST, built.linux.fileName));
    let copies = 0;
    /** Writes a fresh copy (each run deletes its own) and starts it. */
    const launch = (bytes: Buffer, args: string[]) => {
      const dir = join(scratch, String(++copies));
      mkdirSync(dir);
      const path = join(dir, 'lifeline-agent-linux-x64');
      writeFileSync(path, bytes, { mode: 0o755 });
      const agent = spawnCollecting(path, args, { ...process.env, DISPLAY: xvfb.display });
      agents.push(agent);
      return agent;
    };

    const toCode: number[] = [];
    const toCodeUnstamped: number[] = [];
    const toFrame: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      for (const [samples, bytes, args] of [
        [toCode, stamped, []],
        [toCodeUnstamped, unstamped, ['--server', cp.url]],
      ] as const) {
        const started = performance.now();
        const agent = launch(bytes, [...args]);
        await waitFor('a code', () => CODE.exec(agent.output())?.[1], 60_000);
        samples.push(performance.now() - started);
        agent.child.stdin?.write('q');
        await agent.exited;
      }

      const started = performance.now();
      const agent = launch(stamped, ['--accept']);
      const code = await waitFor('a code', () => CODE.exec(agent.output())?.[1], 60_000);
      const { operator } = await connectOperator(cp, code);
      await operator.until(() => operator.videos().length > 0, 'the first video frame', 60_000);
      toFrame.push(performance.now() - started);
      operator.send({ type: 'end', reason: 'operator-ended' });
      await agent.exited;
      await operator.close();
    }
    figures['launchToCodeMs'] = Math.round(median(toCode));
    figures['launchToCodeUnstampedMs'] = Math.round(median(toCodeUnstamped));
    figures['launchToFirstFrameMs'] = Math.round(median(toFrame));
    return figures;
  } finally {
    for (const agent of agents) await agent.kill();
    await cp?.stop();
    await xvfb.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runAgentPackageBench().then(
    (figures) => {
      process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

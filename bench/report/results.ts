import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ChannelFigures } from '../parts/channels.ts';
import type { CodeFigures } from '../parts/codes.ts';
import type { DeviceFigures } from '../parts/devices.ts';
import type { LatencyFigures } from '../parts/latency.ts';
import type { LinkReport } from '../parts/link.ts';
import type { MonitorFigures } from '../parts/monitors.ts';
import type { RelayFigures } from '../parts/relay.ts';
import type { WorkloadFigures } from '../parts/workloads.ts';
import { latencyChart } from './chart.ts';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** Everything one run measured, as written to bench/results/. */
export interface BenchResults {
  date: string;
  /** The commit measured, `+dirty` when the work tree had changes; `LIFELINE_COMMIT` outside a clone. */
  commit: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; kernel: string; node: string };
  quick: boolean;
  parts: string[];
  seconds: number;
  /** 1-minute load average when the run started and ended: anything else running skews the figures. */
  load: { start: number; end: number };
  latency?: LatencyFigures[];
  workloads?: WorkloadFigures[];
  /** Two monitors against one: what viewing one monitor or both costs on the desktop's side. */
  monitors?: MonitorFigures[];
  /** The thin link between relay and viewer (issue 13). */
  link?: LinkReport;
  relay?: RelayFigures;
  channels?: ChannelFigures;
  codes?: CodeFigures;
  /** From `parts/devices.ts`: idle agents held and dropped at once. */
  devices?: DeviceFigures;
  /** From `agent-package.ts`: executable sizes and launch times. */
  agentPackage?: Record<string, number>;
  /** Why the run failed, when it did; the figures above are those measured before. */
  failure?: string;
}

/** The commit of the code measured, from git, or `LIFELINE_COMMIT` when this is no git work tree. */
export function commitMeasured(): string {
  try {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const git = (args: string[]) =>
      execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git(['rev-parse', '--short', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--untracked-files=no']);
    return dirty ? `${head}+dirty` : head;
  } catch {
    return process.env['LIFELINE_COMMIT'] ?? 'unknown';
  }
}

/** The 1-minute load average. */
export function loadNow(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

export function machine(): BenchResults['machine'] {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
  };
}

/**
 * Writes `bench-<date>.json` (and `latest.json`, a copy) and, when there are latency samples,
 * `latency.svg`. Returns the paths written.
 */
export function writeResults(results: BenchResults): string[] {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = results.date.replace(/[:.]/g, '-');
  const json = `${RESULTS_DIR}bench-${stamp}.json`;
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  copyFileSync(json, `${RESULTS_DIR}latest.json`);
  const written = [json, `${RESULTS_DIR}latest.json`];
  const svg = latencyChart(results);
  if (svg) {
    writeFileSync(`${RESULTS_DIR}latency.svg`, svg);
    written.push(`${RESULTS_DIR}latency.svg`);
  }
  return written;
}

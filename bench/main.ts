/**
 * `npm run bench [-- PART ...] [--quick]`: measures Lifeline and a VNC peer (x11vnc + websockify +
 * noVNC) side by side on this machine, prints tables and writes JSON and an SVG chart under
 * bench/results/. Parts: latency, workloads, monitors, link, relay, channels, codes (all of them when none is named),
 * and, on request only, devices (5,000 idle agents; about 10 minutes) and agent (`agent-package.ts`:
 * it builds the agent executables).
 *
 * Exits non-zero when something measured does not work (no picture, input lost, unbounded memory, a
 * process left running), never because a figure is slow.
 */
import { parseArgs } from 'node:util';
import { runChannels } from './parts/channels.ts';
import { runCodes } from './parts/codes.ts';
import { BenchContext } from './parts/context.ts';
import { runDevices } from './parts/devices.ts';
import { runLatency } from './parts/latency.ts';
import { runLink } from './parts/link.ts';
import { runMonitors } from './parts/monitors.ts';
import { runRelay } from './parts/relay.ts';
import { runWorkloads } from './parts/workloads.ts';
import { type BenchResults, commitMeasured, loadNow, machine, writeResults } from './report/results.ts';
import { formatTables } from './report/table.ts';
import { closeApiConnections } from './support/api.ts';
import { leftovers, stopAll } from './support/processes.ts';
import { ensureRequirements } from './support/requirements.ts';

const PARTS = {
  latency: {
    about:
      'input-to-display (a small and a full-screen change) and display-to-viewer latency, 1280x720 and 1920x1080',
    desktop: true,
    byDefault: true,
    run: async (context: BenchContext, results: BenchResults) => {
      results.latency = [];
      await runLatency(context, results.latency);
    },
  },
  workloads: {
    about: 'fps, kbit/s and CPU for a still desktop, typing, scrolling and video (and video at 1920x1080)',
    desktop: true,
    byDefault: true,
    run: async (context: BenchContext, results: BenchResults) => {
      results.workloads = [];
      await runWorkloads(context, results.workloads);
    },
  },
  monitors: {
    about:
      'two monitors side by side: agent CPU and kbit/s on a still desktop and while typing, viewing one monitor and both, against one monitor',
    desktop: true,
    byDefault: true,
    run: async (context: BenchContext, results: BenchResults) => {
      results.monitors = [];
      await runMonitors(context, results.monitors);
    },
  },
  link: {
    about:
      'a thin link to the viewer (4 Mbit/s, 60 ms, 0.5 % loss): input → display and queues over 60 s of typing and of video (root only)',
    desktop: true,
    byDefault: true,
    run: async (context: BenchContext, results: BenchResults) => {
      results.link = { figures: [] };
      await runLink(context, results.link);
    },
  },
  relay: {
    about: 'relay latency, throughput, 10/50/100 sessions, slow reader',
    desktop: false,
    byDefault: true,
    run: async (context: BenchContext, results: BenchResults) => {
      results.relay = await runRelay(context);
    },
  },
  channels: {
    about: 'file transfers, shell keystrokes and commands through the relay (and the HTTP API)',
    desktop: false,
    byDefault: true,
    run: async (context: BenchContext, results: BenchResults) => {
      results.channels = await runChannels(context);
    },
  },
  codes: {
    about: 'connection codes issued and redeemed per second',
    desktop: false,
    byDefault: true,
    run: async (context: BenchContext, results: BenchResults) => {
      results.codes = await runCodes(context);
    },
  },
  devices: {
    about:
      'liveness: 5,000 idle agents on the device hub and on the relay (memory per agent), 1,000 dropping at once (event-loop stall; about 10 minutes on 2 cores, not run by default)',
    desktop: false,
    byDefault: false,
    run: async (context: BenchContext, results: BenchResults) => {
      results.devices = await runDevices(context);
    },
  },
  agent: {
    about:
      'agent executables: size, download size, start to code and first picture (builds them; not run by default)',
    desktop: false,
    byDefault: false,
    run: async (_context: BenchContext, results: BenchResults) => {
      // Loaded on request: it pulls in the agent's packaging code, which the other parts do not need.
      const { runAgentPackageBench } = await import('./agent-package.ts');
      results.agentPackage = await runAgentPackageBench();
    },
  },
} as const;

type PartName = keyof typeof PARTS;

const USAGE = `Usage: npm run bench [-- PART ...] [--quick]

Parts (all but devices and agent when none is named):
${Object.entries(PARTS)
  .map(([name, part]) => `  ${name.padEnd(10)} ${part.about}`)
  .join('\n')}

  --quick    a smoke run: about a fifth of the samples, to check that everything works
`;

function log(line: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = positionals.filter((name) => !(name in PARTS));
  if (unknown.length) {
    process.stderr.write(`unknown part ${unknown.join(', ')}\n\n${USAGE}`);
    return 2;
  }
  const parts = (
    positionals.length ? positionals : Object.keys(PARTS).filter((name) => PARTS[name as PartName].byDefault)
  ) as PartName[];
  const results: BenchResults = {
    date: new Date().toISOString(),
    commit: commitMeasured(),
    machine: machine(),
    quick: values.quick,
    parts,
    seconds: 0,
    load: { start: loadNow(), end: 0 },
  };
  if (results.load.start > results.machine.cpus / 2) {
    log(
      `the machine is busy (load average ${results.load.start} on ${results.machine.cpus} cores): figures will be noisy`,
    );
  }
  const started = performance.now();
  const context = new BenchContext(log, values.quick);
  let failed = false;
  const interrupt = () => {
    // A second Ctrl-C while cleaning up exits at once; the exit handler still kills what is left.
    process.once('SIGINT', () => process.exit(130));
    log('interrupted: stopping everything the benchmark started');
    void context
      .close()
      .then(stopAll)
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const desktop = parts.some((name) => PARTS[name].desktop);
    ensureRequirements({ peer: desktop, desktop });
    for (const name of parts) {
      log(`${name}: ${PARTS[name].about}`);
      await PARTS[name].run(context, results);
    }
  } catch (error) {
    failed = true;
    results.failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.stderr.write(`\nbench failed: ${results.failure}\n`);
    if (error instanceof Error && error.name !== 'BenchFailure' && error.stack) {
      process.stderr.write(`${error.stack}\n`);
    }
  } finally {
    await context.close();
    closeApiConnections();
    await stopAll();
  }
  results.seconds = (performance.now() - started) / 1000;
  results.load.end = loadNow();

  process.stdout.write(`\n${formatTables(results)}\n\n`);
  for (const path of writeResults(results)) log(`wrote ${path}`);

  const left = leftovers();
  if (left.length) {
    process.stderr.write(`bench failed: processes still running after clean-up: ${left.join(', ')}\n`);
    return 1;
  }
  log('every process the benchmark started has exited');
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${String(error)}\n`);
    process.exit(1);
  },
);

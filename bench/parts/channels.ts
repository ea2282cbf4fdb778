import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_CHUNK_BYTES, FILE_WINDOW_BYTES } from '../../protocol/index.ts';
import { isAlive } from '../../tests/support/processes.ts';
import { apiMissing, createApiToken, sessionApi } from '../channels/api-calls.ts';
import type { BenchChild } from '../channels/child-process.ts';
import { PROBE_COMMAND, relayExec } from '../channels/commands.ts';
import { openChannelSession, openDirectSession, startLocalCommands } from '../channels/session.ts';
import { SLOW_MS, type SlowReaderFigures, slowReader } from '../channels/slow-reader.ts';
import { EchoProbe, openLocalShell, openRelayShell } from '../channels/terminals.ts';
import { download, type Transfer, upload } from '../channels/transfers.ts';
import { login } from '../support/api.ts';
import { BenchFailure, ensure } from '../support/failure.ts';
import { sleep } from '../support/net.ts';
import { type Distribution, distribution } from '../support/stats.ts';
import type { BenchContext } from './context.ts';

const MiB = 1024 * 1024;
/** The file moved in every transfer, in bytes; a quick run moves a smaller one. */
const FILE_BYTES = 64 * MiB;
const QUICK_FILE_BYTES = 16 * MiB;
/** Timed transfers per path and direction (after one untimed warm-up each). */
const TRANSFER_RUNS = 5;
/** Keystrokes timed per terminal, typed in blocks that alternate between the two terminals. */
const KEYSTROKES = 300;
const KEYSTROKE_BLOCK = 50;
/** Commands timed per path, alternating. */
const EXECS = 200;
/** A quick run: a smoke test that everything works, in well under a minute on a quiet machine. */
const QUICK = { transferRuns: 1, keystrokes: 40, execs: 20, slowMs: 2_000 };
/** Keystrokes and commands run first and not counted (JIT, caches, the PTY's first read). */
const WARMUP_SAMPLES = 5;
/** How long a closed shell or finished command may take to be gone from the agent's process tree, in ms. */
const PROCESS_EXIT_MS = 10_000;

/** One direction of file transfer, through the relay and over the direct baseline. */
export interface ThroughputFigures {
  /** MiB/s of each timed run. */
  relayRuns: number[];
  directRuns: number[];
  /** Medians, MiB/s. */
  relayMiBps: number;
  directMiBps: number;
  /** relay / direct: 1 is as fast as a bare loopback WebSocket. */
  ratio: number;
}

/** A latency through the relay against the same thing done locally, ms. */
export interface LatencyComparison {
  relay: Distribution;
  local: Distribution;
  /** relay p50 / local p50. */
  ratioP50: number;
  addedP50Ms: number;
  addedP95Ms: number;
}

export interface ChannelFigures {
  fileMiB: number;
  chunkBytes: number;
  windowBytes: number;
  /** Agent → relay → operator (file-read), against the baseline server → operator. */
  download: ThroughputFigures;
  /** Operator → relay → agent (file-write, with the agent's write and SHA-256), against the baseline. */
  upload: ThroughputFigures;
  /** A download to an operator that reads a few ms every 200 ms, then normally. */
  slowReader: SlowReaderFigures;
  /** A keystroke into `cat` in a raw PTY until its echo: agent's shell through the relay vs a local PTY. */
  keystrokes: LatencyComparison & { shell: string };
  /** `exec` until `shell-exit` through the relay vs spawning the same command locally. */
  exec: LatencyComparison & { command: string };
  /** The HTTP API (bearer token) against the WebSocket figures through the relay. */
  api?: {
    downloadRuns: number[];
    uploadRuns: number[];
    downloadMiBps: number;
    uploadMiBps: number;
    /** API / WebSocket through the relay. */
    downloadVsWebSocket: number;
    uploadVsWebSocket: number;
    exec: Distribution;
    /** API exec p50 / WebSocket exec p50. */
    execVsWebSocketP50: number;
  };
  /** Why the API was not measured. */
  apiSkipped?: string;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const median = (values: number[]) => distribution(values).p50;
const mibps = (transfer: Transfer) => transfer.bytes / MiB / transfer.seconds;

function compareLatency(relay: number[], local: number[]): LatencyComparison {
  const r = distribution(relay);
  const l = distribution(local);
  return {
    relay: r,
    local: l,
    ratioP50: r.p50 / l.p50,
    addedP50Ms: r.p50 - l.p50,
    addedP95Ms: r.p95 - l.p95,
  };
}

/**
 * One untimed warm-up of each, then `runs` timed runs alternating which goes first, so drift in the
 * machine's load falls on both alike.
 */
async function alternate(
  runs: number,
  direct: () => Promise<Transfer>,
  relay: () => Promise<Transfer>,
): Promise<ThroughputFigures> {
  await direct();
  await relay();
  const directRuns: number[] = [];
  const relayRuns: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      directRuns.push(mibps(await direct()));
      relayRuns.push(mibps(await relay()));
    } else {
      relayRuns.push(mibps(await relay()));
      directRuns.push(mibps(await direct()));
    }
  }
  const relayMiBps = median(relayRuns);
  const directMiBps = median(directRuns);
  return { relayRuns, directRuns, relayMiBps, directMiBps, ratio: relayMiBps / directMiBps };
}

/** Checks the file an upload stored, then removes it so the next run starts without it. */
function verifyStored(path: string, expected: string, what: string): void {
  const stored = readFileSync(path);
  if (sha256(stored) !== expected) {
    throw new BenchFailure(`${what}: the stored file (${stored.byteLength} bytes) is corrupt (SHA-256)`);
  }
  unlinkSync(path);
}

/** Waits until the agent has no shell or command left running; a survivor is a `BenchFailure`. */
async function noProcessesLeft(agent: BenchChild<unknown>, what: string): Promise<void> {
  const deadline = Date.now() + PROCESS_EXIT_MS;
  let left = agent.descendants();
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = agent.descendants();
  }
  ensure(left.length === 0, `${what} left processes running under the agent: ${left.join(', ')}`);
}

/**
 * Chat, shell, exec and files: a real control plane (its own process), a real agent (its own
 * process: AgentSession with the Node hosts, sharing a temporary folder) and an operator speaking
 * the protocol over a WebSocket in this process. Each figure is set against a baseline measured in
 * the same run: a plain loopback WebSocket server (its own process) for files, a local PTY for
 * keystrokes, a local spawn for commands, and the WebSocket figures for the HTTP API.
 */
export async function runChannels(context: BenchContext): Promise<ChannelFigures> {
  await context.restartControlPlane();
  const cp = await context.controlPlane();
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-bench-channels-'));
  const closers: Array<() => Promise<unknown>> = [];
  try {
    const agentRoot = join(dir, 'agent');
    const directRoot = join(dir, 'direct');
    const localDir = join(dir, 'local');
    for (const folder of [agentRoot, directRoot, localDir]) mkdirSync(folder);
    const fileBytes = context.quick ? QUICK_FILE_BYTES : FILE_BYTES;
    context.log(`channels: a ${fileBytes / MiB} MiB random file`);
    const data = randomBytes(fileBytes);
    const digest = sha256(data);
    writeFileSync(join(agentRoot, 'download.bin'), data);
    writeFileSync(join(directRoot, 'download.bin'), data);

    const cookie = await login(cp.url, cp.username, cp.password);
    const before = (await cp.stats()).relay;
    context.log('channels: starting the agent and joining it as an operator');
    const session = await openChannelSession(cp.url, cookie, agentRoot);
    let sessionOpen = true;
    closers.push(async () => {
      if (sessionOpen) await session.close();
    });
    const direct = await openDirectSession(directRoot);
    closers.push(() => direct.close());
    const operator = session.operator;

    const runs = context.quick ? QUICK.transferRuns : TRANSFER_RUNS;
    context.log(`channels: download, ${plural(runs, 'run')} each through the relay and direct`);
    const downloadFigures = await alternate(
      runs,
      () => download(direct.operator, 'download.bin', digest),
      () => download(operator, 'download.bin', digest),
    );
    context.log(`channels: upload, ${plural(runs, 'run')} each through the relay and direct`);
    const uploadFigures = await alternate(
      runs,
      async () => {
        const transfer = await upload(direct.operator, 'upload.bin', data, digest);
        verifyStored(join(directRoot, 'upload.bin'), digest, 'direct upload');
        return transfer;
      },
      async () => {
        const transfer = await upload(operator, 'upload.bin', data, digest);
        verifyStored(join(agentRoot, 'upload.bin'), digest, 'upload through the relay');
        return transfer;
      },
    );

    context.log('channels: a slow operator downloads');
    const slow = await slowReader(
      cp,
      operator,
      'download.bin',
      digest,
      context.quick ? QUICK.slowMs : SLOW_MS,
    );

    const keystrokes = context.quick ? QUICK.keystrokes : KEYSTROKES;
    context.log(`channels: ${keystrokes} keystrokes each into the agent's shell and a local PTY`);
    const relayShell = await openRelayShell(operator);
    const localShell = openLocalShell(localDir);
    const relayKeys: number[] = [];
    const localKeys: number[] = [];
    try {
      const relayProbe = await EchoProbe.start(relayShell, "the agent's shell through the relay");
      const localProbe = await EchoProbe.start(localShell, 'the local shell');
      await relayProbe.type(WARMUP_SAMPLES);
      await localProbe.type(WARMUP_SAMPLES);
      for (let typed = 0; typed < keystrokes; typed += KEYSTROKE_BLOCK) {
        const block = Math.min(KEYSTROKE_BLOCK, keystrokes - typed);
        localKeys.push(...(await localProbe.type(block)));
        relayKeys.push(...(await relayProbe.type(block)));
      }
      ensure(session.agent.descendants().length > 0, "the agent's shell was not running under the agent");
    } finally {
      await relayShell.close();
      await localShell.close();
    }
    await noProcessesLeft(session.agent, 'closing the shell');
    ensure(!isAlive(localShell.pid), 'the local shell is still running after it was closed');

    const execs = context.quick ? QUICK.execs : EXECS;
    context.log(`channels: ${execs} commands each through the relay and locally`);
    const local = await startLocalCommands(localDir);
    closers.push(() => local.close());
    const relayExecs: number[] = [];
    const localExecs: number[] = [];
    for (let i = 0; i < WARMUP_SAMPLES; i++) {
      await relayExec(operator);
      await local.run();
    }
    for (let i = 0; i < execs; i++) {
      if (i % 2 === 0) {
        localExecs.push(await local.run());
        relayExecs.push(await relayExec(operator));
      } else {
        relayExecs.push(await relayExec(operator));
        localExecs.push(await local.run());
      }
    }
    await noProcessesLeft(session.agent, 'the commands');

    const figures: ChannelFigures = {
      fileMiB: fileBytes / MiB,
      chunkBytes: FILE_CHUNK_BYTES,
      windowBytes: FILE_WINDOW_BYTES,
      download: downloadFigures,
      upload: uploadFigures,
      slowReader: slow,
      keystrokes: { ...compareLatency(relayKeys, localKeys), shell: relayShell.shell },
      exec: { ...compareLatency(relayExecs, localExecs), command: PROBE_COMMAND },
    };

    const missing = await apiMissing(cp.url);
    if (missing) {
      context.log(`channels: the HTTP API is not measured: ${missing}`);
      figures.apiSkipped = missing;
    } else {
      const apiExecCount = Math.ceil(execs / 2);
      context.log(
        `channels: the HTTP API, ${plural(runs, 'download')}, ${plural(runs, 'upload')} and ${apiExecCount} commands`,
      );
      const api = sessionApi(cp.url, await createApiToken(cp.url, cookie), session.sessionId);
      await api.download('download.bin', digest);
      await api.upload('upload.bin', data, digest);
      verifyStored(join(agentRoot, 'upload.bin'), digest, 'upload through the API');
      const downloadRuns: number[] = [];
      const uploadRuns: number[] = [];
      for (let i = 0; i < runs; i++) {
        downloadRuns.push(mibps(await api.download('download.bin', digest)));
        uploadRuns.push(mibps(await api.upload('upload.bin', data, digest)));
        verifyStored(join(agentRoot, 'upload.bin'), digest, 'upload through the API');
      }
      const apiExecs: number[] = [];
      for (let i = 0; i < WARMUP_SAMPLES; i++) await api.exec();
      for (let i = 0; i < apiExecCount; i++) apiExecs.push(await api.exec());
      await noProcessesLeft(session.agent, 'the API commands');
      const exec = distribution(apiExecs);
      figures.api = {
        downloadRuns,
        uploadRuns,
        downloadMiBps: median(downloadRuns),
        uploadMiBps: median(uploadRuns),
        downloadVsWebSocket: median(downloadRuns) / downloadFigures.relayMiBps,
        uploadVsWebSocket: median(uploadRuns) / uploadFigures.relayMiBps,
        exec,
        execVsWebSocketP50: exec.p50 / figures.exec.relay.p50,
      };
    }

    ensure(!operator.malformed, `the relay sent the operator a malformed frame: ${operator.malformed}`);
    const after = (await cp.stats()).relay;
    ensure(
      after.malformedFrames === before.malformedFrames,
      `the relay dropped ${after.malformedFrames - before.malformedFrames} malformed frames`,
    );
    sessionOpen = false;
    const stopped = await session.close();
    ensure(stopped, `the agent did not stop cleanly: ${session.agent.output().slice(-500)}`);
    ensure(stopped.malformedFrames === 0, `the agent dropped ${stopped.malformedFrames} malformed frames`);
    const deadline = Date.now() + PROCESS_EXIT_MS;
    while (session.agent.survivors().length > 0 && Date.now() < deadline) await sleep(100);
    const survivors = session.agent.survivors();
    ensure(survivors.length === 0, `processes left running after the agent stopped: ${survivors.join(', ')}`);
    return figures;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    await context.restartControlPlane();
  }
}

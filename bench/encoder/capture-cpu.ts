/**
 * The agent's CPU while typing, split between the agent (this process: X DAMAGE, the MIT-SHM read,
 * the comparison, the pipe) and `lifeline-x264` (conversion and encoding), with bands of changed rows
 * and with every frame whole, and (in video mode) through the capture's shared memory segment,
 * alternated; also how often the screen is read, and how many of its rows
 * a read asks for (only those X DAMAGE reports drawn on), and how often the pointer's position is read
 * (the agent's hooks: the cursor's shape and the pointer's position watched). The same capture and encoder the agent runs, on the
 * benchmark's typing workload at 1280×720, or another workload and size: `--workload video --size
 * 1920x1080` plays the video at 1600×900 as the benchmark does, with video mode on (half-size pictures).
 * Xvfb's CPU (its MIT-SHM copy of the rows read) is given apart.
 *
 *     npx tsx bench/encoder/capture-cpu.ts [--seconds 10] [--rounds 2] [--workload typing] [--size 1280x720]
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { X264FrameWriter, X264UnitReader, x264Arguments } from '../../agent/media/x264-stream.ts';
import type { FrameFraming } from '../../agent/platform/platform.ts';
import { startX11Capture } from '../../agent/platform/x11-capture.ts';
import { DEFAULT_CACHE_DIR } from '../../build/agent/build-executable.ts';
import { buildX264Encoder } from '../../build/agent/x264-encoder.ts';
import { runX, startXvfb } from '../../tests/support/xvfb.ts';
import { sleep } from '../support/net.ts';
import { cpuSeconds } from '../support/processes.ts';
import { startWorkload, WORKLOADS, type WorkloadName } from '../x11/workloads.ts';
import { FRAME_SIZE, parseSize, runScript } from './record.ts';

/** Time typing runs before the measurement, ms. */
const WARMUP_MS = 2_000;

/**
 * How frames reach the encoder: whole frames down the pipe, only the changed rows down it, or in
 * video mode through the capture's shared memory segment (what the agent does).
 */
type Variant = 'whole' | 'bands' | 'shared';

interface Desktop {
  display: string;
  xvfbPid: number;
  size: { width: number; height: number };
}

async function measure(x264: string, desktop: Desktop, variant: Variant, seconds: number) {
  const { display, size } = desktop;
  const bands = variant !== 'whole';
  // Given the size, the writer chooses video mode as the agent's does (it is off up to 1280×720).
  const writer = new X264FrameWriter(size, { sharedMemory: variant === 'shared' });
  // Without `bandHeader` the capture writes every frame whole, as before the bands.
  const framing: FrameFraming = bands
    ? writer
    : {
        header: () => writer.header(),
        frameHeader: (bytes, keyframe) => writer.frameHeader(bytes, keyframe),
      };
  const encoder = spawn(
    x264,
    x264Arguments({ ...size, framerate: 30, keyframeIntervalFrames: 1800, covered: [] }),
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const reader = new X264UnitReader(() => writer.shared?.onSegmentRead?.());
  let pictures = 0;
  let bytes = 0;
  let reads = 0;
  let rowsRead = 0;
  let pointerReads = 0;
  encoder.stdout.on('data', (chunk: Buffer) => {
    for (const unit of reader.push(chunk)) {
      pictures++;
      bytes += unit.data.byteLength;
    }
  });
  const feed = startX11Capture({
    display,
    area: { x: 0, y: 0, ...size },
    framerate: 30,
    stdin: encoder.stdin,
    framing,
    // As the agent's: it sends the cursor apart from the picture.
    hooks: { onError: (message) => console.error(message), onCursorShape: () => {}, onPointer: () => {} },
    onRowsRead: (rows) => {
      reads++;
      rowsRead += rows.end - rows.first;
    },
    onPointerRead: () => pointerReads++,
  });
  await sleep(WARMUP_MS);
  const pid = encoder.pid ?? 0;
  const xvfbBefore = cpuSeconds(desktop.xvfbPid);
  const [agentBefore, encoderBefore, picturesBefore, bytesBefore, readsBefore, rowsBefore, pointerBefore] = [
    process.cpuUsage(),
    cpuSeconds(pid),
    pictures,
    bytes,
    reads,
    rowsRead,
    pointerReads,
  ];
  await sleep(seconds * 1000);
  const agent = process.cpuUsage(agentBefore);
  const encoderCpu = cpuSeconds(pid) - encoderBefore;
  const xvfbCpu = cpuSeconds(desktop.xvfbPid) - xvfbBefore;
  feed.stop();
  writer.close();
  encoder.stdin.end();
  await new Promise((resolve) => encoder.on('close', resolve));
  return {
    pictures: (pictures - picturesBefore) / seconds,
    reads: (reads - readsBefore) / seconds,
    rowsPerRead: (rowsRead - rowsBefore) / Math.max(1, reads - readsBefore),
    pointerReads: (pointerReads - pointerBefore) / seconds,
    kbps: ((bytes - bytesBefore) * 8) / 1000 / seconds,
    agent: (agent.user + agent.system) / 1e6 / seconds,
    encoder: encoderCpu / seconds,
    xvfb: xvfbCpu / seconds,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '2' },
      workload: { type: 'string', default: 'typing' },
      size: { type: 'string', default: `${FRAME_SIZE.width}x${FRAME_SIZE.height}` },
    },
  });
  const workload = values.workload as WorkloadName;
  if (!WORKLOADS.includes(workload)) throw new Error(`--workload is one of ${WORKLOADS.join(', ')}`);
  const size = parseSize(values.size);
  const x264 = await buildX264Encoder(DEFAULT_CACHE_DIR);
  const xvfb = await startXvfb(size);
  try {
    await runX('xsetroot', ['-solid', '#2060c0'], xvfb.display);
    // At 1920x1080 the video fills most of the screen, as in the benchmark (bench/parts/workloads.ts).
    const video = size.width >= 1920 ? { width: 1600, height: 900 } : undefined;
    const running = await startWorkload(workload, xvfb.display, video);
    const desktop = { display: xvfb.display, xvfbPid: xvfb.pid, size };
    try {
      console.log(
        '| frames | reads/s | rows a read | pointer reads/s | pictures/s | kbit/s | agent CPU | encoder CPU | Xvfb CPU |',
      );
      console.log('|---|---|---|---|---|---|---|---|---|');
      for (let round = 0; round < Number(values.rounds); round++) {
        for (const variant of ['whole', 'bands', 'shared'] as const) {
          const m = await measure(x264, desktop, variant, Number(values.seconds));
          console.log(
            `| ${variant} | ${m.reads.toFixed(1)} | ${m.rowsPerRead.toFixed(0)} | ${m.pointerReads.toFixed(1)} | ${m.pictures.toFixed(1)} | ${m.kbps.toFixed(1)} | ${m.agent.toFixed(3)} | ${m.encoder.toFixed(3)} | ${m.xvfb.toFixed(3)} |`,
          );
        }
      }
    } finally {
      await running.stop();
    }
  } finally {
    await xvfb.stop();
  }
}

runScript(main);

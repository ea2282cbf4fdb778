/**
 * The agent's CPU while typing, split between the agent (this process: X DAMAGE, the MIT-SHM read,
 * the comparison, the pipe) and `lifeline-x264` (conversion and encoding), with bands of changed rows
 * and with every frame whole, alternated; also how often the screen is read, and how many of its rows
 * a read asks for (only those X DAMAGE reports drawn on), and how often the pointer's position is read.
 * The same capture and encoder the agent runs, with the agent's hooks (the cursor's shape and the
 * pointer's position watched), on the benchmark's typing workload at 1280×720.
 *
 *     npx tsx bench/encoder/capture-cpu.ts [--seconds 10] [--rounds 2]
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
import { startWorkload } from '../x11/workloads.ts';
import { FRAME_SIZE, runScript } from './record.ts';

/** Time typing runs before the measurement, ms. */
const WARMUP_MS = 2_000;

async function measure(x264: string, display: string, bands: boolean, seconds: number) {
  const writer = new X264FrameWriter();
  // Without `bandHeader` the capture writes every frame whole, as before the bands.
  const framing: FrameFraming = bands
    ? writer
    : {
        header: () => writer.header(),
        frameHeader: (bytes, keyframe) => writer.frameHeader(bytes, keyframe),
      };
  const encoder = spawn(
    x264,
    x264Arguments({ ...FRAME_SIZE, framerate: 30, keyframeIntervalFrames: 1800, covered: [] }),
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const reader = new X264UnitReader();
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
    area: { x: 0, y: 0, ...FRAME_SIZE },
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
  feed.stop();
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
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '2' } },
  });
  const x264 = await buildX264Encoder(DEFAULT_CACHE_DIR);
  const xvfb = await startXvfb(FRAME_SIZE);
  try {
    await runX('xsetroot', ['-solid', '#2060c0'], xvfb.display);
    const typing = await startWorkload('typing', xvfb.display);
    try {
      console.log(
        '| frames | reads/s | rows a read | pointer reads/s | pictures/s | kbit/s | agent CPU | encoder CPU |',
      );
      console.log('|---|---|---|---|---|---|---|---|');
      for (let round = 0; round < Number(values.rounds); round++) {
        for (const bands of [false, true]) {
          const m = await measure(x264, xvfb.display, bands, Number(values.seconds));
          console.log(
            `| ${bands ? 'bands' : 'whole'} | ${m.reads.toFixed(1)} | ${m.rowsPerRead.toFixed(0)} | ${m.pointerReads.toFixed(1)} | ${m.pictures.toFixed(1)} | ${m.kbps.toFixed(1)} | ${m.agent.toFixed(3)} | ${m.encoder.toFixed(3)} |`,
          );
        }
      }
    } finally {
      await typing.stop();
    }
  } finally {
    await xvfb.stop();
  }
}

runScript(main);

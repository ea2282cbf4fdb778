/**
 * Encodes the recorded workloads (`record.ts`) offline with `lifeline-x264` under several settings and
 * prints, per workload and setting, the bytes per picture and the encoder's CPU per frame. Bytes
 * depend only on the frames, so they repeat exactly from run to run; CPU is the user + system time of
 * the encoder (all its threads: two sliced threads above 1280x720), conversion and reading included,
 * and ms/picture the wall time from a frame written to its unit read; both move with the load.
 *
 * Frames go to the encoder as the agent sends them: only the band of rows that changed
 * (`changedRows`, "LLF2"), unless `--whole` (every frame whole, "LLF1", as before issue 13's bands).
 * `--step N` keeps every Nth frame, as a capture N times slower would see the workload.
 *
 *     npx tsx bench/encoder/record.ts                  # once: /tmp/lifeline-frames/*.bgrx
 *     npx tsx bench/encoder/encode.ts [--dir /tmp/lifeline-frames] [--only SETTING,…] [--workloads typing,…] [--whole] [--step N] [--size 1920x1080] [--save DIR]
 *
 * `--save DIR` writes each encoding as `DIR/<workload>-<setting>.h264` (Annex B), for a decoder to
 * compare with the recording (bench/encoder/fidelity.ts).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { changedRows } from '../../agent/media/changed-rows.ts';
import { X264FrameWriter, X264UnitReader } from '../../agent/media/x264-stream.ts';
import { DEFAULT_CACHE_DIR } from '../../build/agent/build-executable.ts';
import { buildX264Encoder } from '../../build/agent/x264-encoder.ts';
import { type Distribution, distribution } from '../support/stats.ts';
import { FRAME_SIZE, parseSize, RECORDED, recordingPath } from './record.ts';

/** One setting compared: `lifeline-x264` arguments on top of its defaults. */
interface Setting {
  name: string;
  args: string[];
  /** x264's CRF, set as the agent sets it (in every frame's header); 23 when absent. */
  crf?: number;
}

const p = (...pairs: string[]) => pairs.flatMap((pair) => ['--param', pair]);

/** What is compared; `before` is ultrafast as ffmpeg ran it, `screen` what lifeline-x264 now does. */
const SETTINGS: Setting[] = [
  { name: 'before', args: ['--preset', 'ultrafast', '--screen', 'off'] },
  { name: 'screen', args: [] },
  { name: 'uf+hex16', args: ['--screen', 'off', ...p('me=hex', 'merange=16')] },
  { name: 'uf+umh32', args: ['--screen', 'off', ...p('me=umh', 'merange=32')] },
  { name: 'uf+umh32+subme1', args: ['--screen', 'off', ...p('me=umh', 'merange=32', 'subme=1')] },
  { name: 'uf+esa32', args: ['--screen', 'off', ...p('me=esa', 'merange=32')] },
  { name: 'uf+part', args: ['--screen', 'off', ...p('partitions=p8x8,i4x4')] },
  { name: 'uf+stillimage', args: ['--screen', 'off', '--tune', 'zerolatency,stillimage'] },
  { name: 'uf+cabac(main)', args: ['--screen', 'off', ...p('profile=main', 'cabac=1')] },
  { name: 'uf+cabac+8x8(high)', args: ['--screen', 'off', ...p('profile=high', 'cabac=1', '8x8dct=1')] },
  { name: 'superfast', args: ['--screen', 'off', '--preset', 'superfast'] },
  { name: 'veryfast', args: ['--screen', 'off', '--preset', 'veryfast'] },
  { name: 'uf crf 28', args: ['--screen', 'off'], crf: 28 },
  { name: 'screen+merange48', args: p('merange=48') },
  { name: 'screen+merange16', args: p('merange=16') },
  { name: 'screen+merange64', args: p('merange=64') },
  { name: 'screen+merange96', args: p('merange=96') },
  { name: 'screen+subme1', args: p('subme=1') },
  { name: 'screen+superfast', args: ['--preset', 'superfast'] },
  { name: 'screen+veryfast', args: ['--preset', 'veryfast'] },
  { name: 'screen crf 26', args: [], crf: 26 },
  { name: 'screen-aq', args: p('aq-mode=0') },
  { name: 'screen+deblock', args: p('no-deblock=0') },
  { name: 'screen+scenecut', args: p('scenecut=40') },
  { name: 'screen+sliced', args: p('threads=auto') },
  { name: 'screen+sliced2', args: p('threads=2', 'sliced-threads=1') },
  { name: 'screen+1thread', args: p('threads=1') },
  // Typing's bytes and CPU (issue 13, README "Typing: the encoder's per-picture work").
  { name: 'screen+cqp', args: ['--constant-qp', 'on'] },
  { name: 'screen crf 24', args: [], crf: 24 },
  { name: 'screen crf 25', args: [], crf: 25 },
  { name: 'screen crf', args: p('crf=23') },
  { name: 'screen+trellis1', args: p('trellis=1') },
  { name: 'screen+trellis2', args: p('trellis=2') },
  { name: 'screen+trellis1 crf 24', args: p('trellis=1'), crf: 24 },
  { name: 'screen+trellis1 crf 25', args: p('trellis=1'), crf: 25 },
  { name: 'screen+trellis1 crf 26', args: p('trellis=1'), crf: 26 },
  { name: 'screen+deadzone', args: p('deadzone-inter=32', 'deadzone-intra=20') },
  { name: 'screen+aq-strength1.5', args: p('aq-strength=1.5') },
  { name: 'screen+aq2', args: p('aq-mode=2') },
  { name: 'screen+aq3', args: p('aq-mode=3') },
  { name: 'screen+p4x4', args: p('partitions=p8x8,p4x4,i4x4') },
  { name: 'screen-p8x8', args: p('partitions=i4x4') },
  { name: 'screen+qp23', args: p('qp=23') },
  { name: 'screen+qp26', args: p('qp=26') },
  { name: 'screen+qp28', args: p('qp=28') },
  { name: 'screen+qp30', args: p('qp=30') },
  { name: 'screen+p4x4+trellis1', args: p('partitions=p8x8,p4x4,i4x4', 'trellis=1') },
  { name: 'screen+p4x4+qp23', args: p('partitions=p8x8,p4x4,i4x4', 'qp=23') },
  { name: 'screen+p4x4+qp24', args: p('partitions=p8x8,p4x4,i4x4', 'qp=24') },
  { name: 'screen+p4x4+qp25', args: p('partitions=p8x8,p4x4,i4x4', 'qp=25') },
  { name: 'screen+p4x4+trellis1+qp23', args: p('partitions=p8x8,p4x4,i4x4', 'trellis=1', 'qp=23') },
  { name: 'screen+p4x4+trellis1+qp25', args: p('partitions=p8x8,p4x4,i4x4', 'trellis=1', 'qp=25') },
  { name: 'screen+p4x4+trellis1 crf 25', args: p('partitions=p8x8,p4x4,i4x4', 'trellis=1'), crf: 25 },
  { name: 'screen+p4x4+trellis1+aq3', args: p('partitions=p8x8,p4x4,i4x4', 'trellis=1', 'aq-mode=3') },
];

interface Figures {
  frames: number;
  keyframeBytes: number;
  /** Mean bytes of the frames after the first (P-frames). */
  meanBytes: number;
  cpuMsPerFrame: number;
  /** Time from a frame written to its access unit read, ms (wall clock: moves with the load). */
  wallMs: Distribution;
}

/** Every `step`th frame of the recording: a lower capture rate, so more change per picture. */
function* frames(path: string, frameBytes: number, step: number): Generator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    const count = Math.floor(statSync(path).size / frameBytes);
    for (let i = 0; i < count; i += step) {
      const frame = Buffer.alloc(frameBytes);
      readSync(fd, frame, 0, frameBytes, i * frameBytes);
      yield frame;
    }
  } finally {
    closeSync(fd);
  }
}

async function encode(
  x264: string,
  path: string,
  setting: Setting,
  options: { whole: boolean; step: number; size: { width: number; height: number }; save?: string },
): Promise<Figures> {
  const { whole, step, save } = options;
  const { width, height } = options.size;
  const rowBytes = width * 4;
  const child = spawn(
    '/usr/bin/time',
    [
      '-f',
      'cpu %U %S',
      x264,
      '--width',
      String(width),
      '--height',
      String(height),
      // x264's own settings (`--screen off`) on one thread, as they were compared; the screen
      // settings choose their threads by picture size, as the agent runs them.
      ...(setting.args.includes('--screen') ? p('threads=1') : []),
      ...setting.args,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const reader = new X264UnitReader();
  const sizes: number[] = [];
  // Each frame waits for its unit before the next is written, as the agent's pictures do one at a time.
  const waiting: Array<() => void> = [];
  const units: Uint8Array[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    for (const unit of reader.push(chunk)) {
      sizes.push(unit.data.byteLength);
      waiting.shift()?.();
      if (save) units.push(unit.data);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const writer = new X264FrameWriter();
  if (setting.crf !== undefined) writer.setQuality(setting.crf);
  let previous: Buffer | undefined;
  let count = 0;
  const wall: number[] = [];
  const write = (data: Uint8Array) =>
    new Promise<void>((resolve, reject) =>
      child.stdin.write(data, (error) => (error ? reject(error) : resolve())),
    );
  for (const frame of frames(path, width * height * 4, step)) {
    const band = whole || !previous ? undefined : changedRows(previous, frame, rowBytes);
    if (!whole && previous && !band) continue;
    const unit = new Promise<void>((resolve) => waiting.push(resolve));
    const startedAt = performance.now();
    if (!band) {
      await write(writer.frameHeader(frame.byteLength, count === 0));
      await write(frame);
    } else {
      const data = frame.subarray(band.first * rowBytes, band.end * rowBytes);
      await write(writer.bandHeader(band.first, data.byteLength, false));
      await write(data);
    }
    await unit;
    wall.push(performance.now() - startedAt);
    previous = frame;
    count++;
  }
  child.stdin.end();
  const code = await exited;
  const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(stderr);
  if (code !== 0 || !cpu) throw new Error(`lifeline-x264 (${setting.name}) failed: ${stderr.trim()}`);
  if (save)
    writeFileSync(
      join(save, `${basename(path, '.bgrx')}-${setting.name.replace(/[^\w+-]+/g, '_')}.h264`),
      Buffer.concat(units),
    );
  const [keyframeBytes = 0, ...rest] = sizes;
  return {
    frames: sizes.length,
    keyframeBytes,
    meanBytes: rest.reduce((a, b) => a + b, 0) / Math.max(1, rest.length),
    cpuMsPerFrame: ((Number(cpu[1]) + Number(cpu[2])) * 1000) / Math.max(1, sizes.length),
    wallMs: distribution(wall),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: '/tmp/lifeline-frames' },
      only: { type: 'string' },
      whole: { type: 'boolean', default: false },
      workloads: { type: 'string' },
      step: { type: 'string', default: '1' },
      size: { type: 'string', default: `${FRAME_SIZE.width}x${FRAME_SIZE.height}` },
      save: { type: 'string' },
    },
  });
  const only = values.only?.split(',');
  if (values.save) mkdirSync(values.save, { recursive: true });
  // Another build of the encoder (an experiment) in place of the tree's, as the agent takes it.
  const x264 = process.env['LIFELINE_X264_PATH'] ?? (await buildX264Encoder(DEFAULT_CACHE_DIR));
  console.log(
    '| workload | setting | frames | IDR bytes | bytes/picture | kbit/picture | CPU ms/frame | ms/picture p50 / p95 |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  const workloads = values.workloads?.split(',');
  for (const workload of RECORDED) {
    if (workloads && !workloads.includes(workload)) continue;
    for (const setting of SETTINGS) {
      if (only && !only.includes(setting.name)) continue;
      const f = await encode(x264, recordingPath(values.dir, workload), setting, {
        whole: values.whole,
        step: Number(values.step),
        size: parseSize(values.size),
        save: values.save,
      });
      console.log(
        `| ${workload} | ${setting.name} | ${f.frames} | ${f.keyframeBytes} | ${Math.round(f.meanBytes)} | ${((f.meanBytes * 8) / 1000).toFixed(2)} | ${f.cpuMsPerFrame.toFixed(2)} | ${f.wallMs.p50.toFixed(1)} / ${f.wallMs.p95.toFixed(1)} |`,
      );
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

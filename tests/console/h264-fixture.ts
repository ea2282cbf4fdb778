import { spawnSync } from 'node:child_process';

/** One Annex-B access unit as the agent would send it. */
export interface AccessUnit {
  keyframe: boolean;
  data: Uint8Array;
}

const AUD = [0, 0, 0, 1, 9];

function startsWithAt(bytes: Uint8Array, at: number, pattern: readonly number[]): boolean {
  return pattern.every((value, index) => bytes[at + index] === value);
}

/** Whether an access unit holds an IDR slice (NAL type 5). */
function hasIdr(unit: Uint8Array): boolean {
  for (let i = 0; i + 3 < unit.length; i++) {
    if (unit[i] === 0 && unit[i + 1] === 0 && unit[i + 2] === 1 && ((unit[i + 3] ?? 0) & 0x1f) === 5)
      return true;
  }
  return false;
}

/**
 * Encodes ffmpeg's `testsrc2` pattern with libx264 (baseline, no B-frames, SPS/PPS on every
 * keyframe, an access unit delimiter before each picture) and splits the stream on the
 * delimiters, as the agent does.
 */
export function encodeTestPattern(options: {
  width: number;
  height: number;
  frames: number;
  keyframeInterval: number;
}): AccessUnit[] {
  const ffmpeg = process.env['FFMPEG_PATH'] ?? 'ffmpeg';
  const result = spawnSync(
    ffmpeg,
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
      ...['-i', `testsrc2=size=${options.width}x${options.height}:rate=10`],
      ...['-frames:v', String(options.frames), '-c:v', 'libx264', '-profile:v', 'baseline', '-bf', '0'],
      ...['-g', String(options.keyframeInterval), '-pix_fmt', 'yuv420p'],
      ...['-x264-params', 'repeat-headers=1:aud=1', '-f', 'h264', '-'],
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.error) throw new Error(`cannot run ${ffmpeg}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr.toString()}`);
  const stream = new Uint8Array(result.stdout);
  const starts: number[] = [];
  for (let i = 0; i + AUD.length <= stream.length; i++) if (startsWithAt(stream, i, AUD)) starts.push(i);
  return starts.map((start, index) => {
    const data = stream.subarray(start, starts[index + 1] ?? stream.length);
    return { keyframe: hasIdr(data), data };
  });
}

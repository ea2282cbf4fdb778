import { type ChildProcess, spawn } from 'node:child_process';
import type { PictureBudget } from '../core/ports.ts';
import type {
  CursorShape,
  FrameFeed,
  Platform,
  PointerPosition,
  ScreenArea,
  ScreenSize,
} from '../platform/platform.ts';
import { type AccessUnit, parseSpsCodecString } from './annexb.ts';
import { FlvDemuxer } from './flv-demuxer.ts';
import { MARKED_KEYFRAME_OUTPUT_ARGS } from './raw-video-feed.ts';
import { X264FrameWriter, X264UnitReader, x264Arguments } from './x264-stream.ts';

/** Frames per second captured when the caller does not say. */
const DEFAULT_FRAMERATE = 30;
/**
 * Keyframe spacing when the caller does not say and keyframes cannot be requested (ffmpeg grabs the
 * screen itself: macOS, Windows without its helper), in encoded frames (2 s of full motion at 30 fps). Frames are encoded
 * only when the screen changes, so on a quiet desktop keyframes are rare; a viewer that joins is given
 * the last keyframe and the frames since (see `ScreenSender`), not made to wait.
 */
const DEFAULT_KEYFRAME_INTERVAL_FRAMES = 60;
/**
 * Keyframe spacing when keyframes come on request (the platform feeds frames, see
 * `CaptureSource.feed`), in encoded frames: only a safety net, 60 s of full motion at 30 fps and far
 * longer on a quiet desktop. It bounds what `ScreenSender` keeps to replay.
 */
const ON_REQUEST_KEYFRAME_INTERVAL_FRAMES = 1800;
/**
 * Columns added on the left before `mpdecimate` and cropped after it: the filter never compares the
 * first 8 columns of a plane (16 pixels of 4:2:0 chroma), so a change there alone would be dropped.
 */
const DECIMATE_PAD_PIXELS = 16;
/** How long stop() waits after SIGTERM before it sends SIGKILL, in ms. */
const STOP_GRACE_MS = 2000;
/** How much of ffmpeg's stderr is kept to explain an exit, in characters. */
const STDERR_TAIL_CHARS = 4096;

/** What the encoder produces before its first picture. */
export interface ScreenEncoderConfig {
  /** WebCodecs codec string from the first keyframe's SPS, e.g. `avc1.42C01F`. */
  codec: string;
  /** Size of the encoded picture, in pixels; input coordinates use the same space. */
  width: number;
  height: number;
  framerate: number;
}

/** One encoded frame. */
export interface EncodedAccessUnit {
  /** Annex-B H.264; keyframes carry SPS and PPS. */
  data: Uint8Array;
  keyframe: boolean;
  /**
   * `Date.now()` when the unit's last byte came from ffmpeg: an upper bound on the capture time,
   * later than the real one by the encoding time.
   */
  captureTime: number;
}

/** How the encoder's process ended. */
export interface ScreenEncoderExit {
  code: number | null;
  signal: string | null;
  /** The last few KB of ffmpeg's stderr (it runs with `-loglevel error`, so only errors). */
  stderrTail: string;
  /** True when the exit followed `stop()`; false means ffmpeg died on its own. */
  stopped: boolean;
}

export interface ScreenEncoderOptions {
  /**
   * The agent's own encoder (`lifeline-x264`, see `X264FrameWriter`): used where the platform feeds
   * the frames (`CaptureSource.feed`: Linux). ffmpeg encodes everywhere else, or when this is absent.
   */
  x264Path?: string;
  /** ffmpeg: captures and encodes where `lifeline-x264` is not used; required there. */
  ffmpegPath?: string;
  platform: Platform;
  /** The part of the desktop to capture (one monitor); the whole primary screen when absent. */
  area?: ScreenArea;
  /** Parts of `area` (relative to its corner) painted black before encoding: other windows lying on a shared one. */
  covered?: readonly ScreenArea[];
  /** Most frames per second captured; defaults to 30. Frames that show no change are not encoded. */
  framerate?: number;
  /**
   * Most encoded frames from one keyframe to the next; defaults to 1800 where keyframes come on
   * request (`requestKeyframe`), 60 elsewhere.
   */
  keyframeIntervalFrames?: number;
  /** Called for every unit, after `onConfig`; units before the first keyframe are dropped. */
  onAccessUnit(unit: EncodedAccessUnit): void;
  /** Called once, just before the first keyframe. */
  onConfig(config: ScreenEncoderConfig): void;
  /** Called once when ffmpeg has exited, for whatever reason. */
  onExit(info: ScreenEncoderExit): void;
  /**
   * The cursor's image on every change, where the platform can tell (X11); the picture then leaves
   * the cursor out and the viewer draws it. Absent, or on other platforms: ffmpeg draws it in.
   */
  onCursorShape?(shape: CursorShape): void;
  /** The pointer's position in the picture's pixels, whenever it moved (with `onCursorShape`). */
  onPointer?(position: PointerPosition): void;
}

/** A running encoder: ffmpeg, or `lifeline-x264` fed by the platform. */
export interface ScreenEncoder {
  /** Which program encodes. */
  readonly program: 'ffmpeg' | 'lifeline-x264';
  /** The encoder's process id, so the agent can make sure it never outlives a session. */
  readonly pid: number;
  /**
   * Makes the next frame a keyframe, from the current picture at once even on a still screen. Present
   * where the platform feeds the frames (`CaptureSource.feed`: Linux, Windows), which marks the frame for
   * `-force_key_frames` (see `RawVideoWriter`). Absent where ffmpeg grabs the screen itself (macOS,
   * Windows without its helper): the CLI cannot be told to force a keyframe while it runs, and `ScreenSender` replays the
   * frames since the last keyframe instead.
   */
  readonly requestKeyframe?: () => void;
  /** Feeds ffmpeg at most `fps` frames a second, where the platform feeds it (X11; see `FrameFeed`). */
  readonly setFrameRate?: (fps: number) => void;
  /**
   * x264's constant rate factor from the next frame on (23 at start; higher is smaller and blurrier),
   * without a restart. Present with `lifeline-x264` only.
   */
  readonly setQuality?: (crf: number) => void;
  /** Caps the pictures' size from the next frame on (see `PictureBudget`). Present with `lifeline-x264` only. */
  readonly setBudget?: (budget: PictureBudget | undefined) => void;
  /** Stops ffmpeg (SIGTERM, then SIGKILL after 2 s) and resolves once it has exited. No callbacks but `onExit` follow. */
  stop(): Promise<void>;
}

/**
 * Captures the platform's primary screen and encodes it to H.264 for WebCodecs: constrained baseline
 * (no B-frames, so every unit is displayable as it arrives), x264's zerolatency tuning and SPS/PPS at
 * every keyframe. Where the platform feeds the frames (Linux) and `x264Path` is given, the agent's own
 * `lifeline-x264` encodes them (see `X264FrameWriter`: keyframes and quality per frame); otherwise
 * ffmpeg, which on macOS (and Windows without its helper) also grabs the screen.
 *
 * Only changes are encoded, and the output has a variable frame rate, so a still screen produces no
 * units at all after the first keyframe. Where the platform feeds frames itself (X11: on X DAMAGE; Windows:
 * the desktop helper's `capture`; see `CaptureSource.feed`) it writes only frames that differ from the last, and marks the ones that must
 * be keyframes (`requestKeyframe`, see `RawVideoWriter`); where ffmpeg grabs on a clock (macOS,
 * Windows without its helper) capture runs at `framerate`, ffmpeg's `mpdecimate` drops every frame identical to the last
 * one kept (any pixel that differs keeps it), and keyframes come every `keyframeIntervalFrames`.
 *
 * ffmpeg writes FLV rather than a raw H.264 stream (`lifeline-x264` writes a length before each unit): FLV gives every frame's length up front, so a unit
 * goes out the moment its last byte arrives instead of when the next frame begins, one frame
 * interval later (see `FlvDemuxer`).
 *
 * The picture is scaled to the platform's screen size rounded down to even numbers (4:2:0 needs even
 * dimensions). Where capture already has that size the scale is a no-op; on HiDPI screens it maps
 * physical pixels to the points input is injected in.
 *
 * Throws if the screen size cannot be read or the encoder cannot be spawned; later failures arrive at
 * `onExit`.
 *
 * @example
 * const encoder = startScreenEncoder({
 *   ...resolveEncoderPrograms(),
 *   platform: currentPlatform(),
 *   onConfig: (config) => send({ type: 'video-config', ...config }),
 *   onAccessUnit: (unit) => sendVideo(unit),
 *   onExit: (exit) => log.info(exit, 'the encoder exited'),
 * });
 * await encoder.stop();
 */
export function startScreenEncoder(options: ScreenEncoderOptions): ScreenEncoder {
  const framerate = options.framerate ?? DEFAULT_FRAMERATE;
  const area = options.area;
  const screen = area ? { width: area.width, height: area.height } : options.platform.screenSize();
  const size = { width: evenFloor(screen.width), height: evenFloor(screen.height) };
  const capture = options.platform.captureSource({
    framerate,
    size: screen,
    ...(area ? { origin: { x: area.x, y: area.y } } : {}),
  });
  const fed = capture.feed !== undefined;
  const keyframeIntervalFrames =
    options.keyframeIntervalFrames ??
    (fed ? ON_REQUEST_KEYFRAME_INTERVAL_FRAMES : DEFAULT_KEYFRAME_INTERVAL_FRAMES);
  const covered = options.covered ?? [];
  // Given the size, the writer marks frames for video mode (half size while the screen is in full
  // motion); LIFELINE_VIDEO_MODE=off keeps every picture whole (to compare, or if it ever misbehaves).
  const videoMode = process.env['LIFELINE_VIDEO_MODE'] !== 'off';
  // In video mode a capture that reads the screen into shared memory (X11's MIT-SHM) hands the encoder
  // the rows there, not down the pipe: the reader below passes the encoder's acks on.
  const x264 =
    fed && options.x264Path !== undefined
      ? new X264FrameWriter(videoMode ? screen : undefined, { sharedMemory: true })
      : undefined;
  let command: string;
  let args: string[];
  if (x264 && options.x264Path !== undefined) {
    command = options.x264Path;
    args = x264Arguments({ ...screen, framerate, keyframeIntervalFrames, covered });
  } else if (options.ffmpegPath !== undefined) {
    command = options.ffmpegPath;
    args = ffmpegArguments({
      inputArgs: capture.inputArgs,
      fed,
      keyframeIntervalFrames,
      framerate,
      size,
      covered,
    });
  } else {
    throw new Error('no encoder for this screen: ffmpeg is needed where the platform does not feed frames');
  }
  const program = x264 ? 'lifeline-x264' : 'ffmpeg';

  const child = spawn(command, args, {
    stdio: [capture.feed ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const pid = child.pid;
  if (pid === undefined) {
    // spawn() reports ENOENT and EACCES asynchronously; the missing pid says it already failed.
    child.once('error', () => {});
    throw new Error(`could not start ${program} at ${command}`);
  }

  // ffmpeg would notice a vanished agent only at its next write to the closed pipe; an agent that
  // exits through process.exit() takes it down at once.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopping = false;
  let configured = false;
  let feed: FrameFeed | undefined;
  if (capture.feed && child.stdin) {
    // A write after ffmpeg exited fails with EPIPE; the exit itself is reported by 'close'.
    child.stdin.on('error', () => {});
    feed = capture.feed(
      child.stdin,
      {
        onError: (message) => {
          if (stopping) return;
          stderrTail = `${stderrTail}${message}\n`.slice(-STDERR_TAIL_CHARS);
          // No frame will come again, and ffmpeg blocked on its input would not notice SIGTERM.
          child.kill('SIGKILL');
        },
        ...(options.onCursorShape ? { onCursorShape: options.onCursorShape } : {}),
        ...(options.onPointer ? { onPointer: options.onPointer } : {}),
      },
      x264,
    );
    const written = feed;
    // A still screen leaves video mode by a frame of no rows (a keyframe at full size).
    if (x264) x264.onVideoModeEnd = () => written.requestKeyframe();
  }
  let stderrTail = '';
  const demuxer = x264 ? new X264UnitReader(() => x264.shared?.onSegmentRead?.()) : new FlvDemuxer();

  const deliver = (units: readonly AccessUnit[]) => {
    for (const unit of units) {
      if (stopping) return;
      if (!configured) {
        const codec = unit.keyframe ? parseSpsCodecString(unit.data) : undefined;
        // A decoder cannot start before a keyframe with its SPS, so anything earlier is useless.
        if (codec === undefined) continue;
        configured = true;
        options.onConfig({ codec, width: size.width, height: size.height, framerate });
      }
      options.onAccessUnit({ data: unit.data, keyframe: unit.keyframe, captureTime: Date.now() });
    }
  };

  child.stdout?.on('data', (chunk: Buffer) => {
    try {
      deliver(demuxer.push(chunk));
    } catch (error) {
      stderrTail = `${stderrTail}${(error as Error).message}\n`.slice(-STDERR_TAIL_CHARS);
      child.kill('SIGKILL');
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS);
  });
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  // 'close' waits for stdout and stderr to drain, so the tail is complete.
  child.once('close', (code, signal) => {
    process.removeListener('exit', killOnExit);
    feed?.stop();
    x264?.close();
    options.onExit({
      code,
      signal,
      stderrTail: spawnError ? `${stderrTail}${spawnError.message}` : stderrTail,
      stopped: stopping,
    });
  });

  return {
    program,
    pid,
    ...(feed ? { requestKeyframe: () => feed?.requestKeyframe() } : {}),
    ...(x264 ? { setQuality: (crf: number) => x264.setQuality(crf) } : {}),
    ...(x264 ? { setBudget: (budget: PictureBudget | undefined) => x264.setBudget(budget) } : {}),
    ...(feed?.setFrameRate ? { setFrameRate: (fps: number) => feed?.setFrameRate?.(fps) } : {}),
    stop: () => {
      stopping = true;
      feed?.stop();
      x264?.close();
      // ffmpeg blocked on its input ends at once on end of file; SIGTERM would wait for the next frame.
      child.stdin?.end();
      return terminate(child, exited);
    },
  };
}

function ffmpegArguments(options: {
  inputArgs: readonly string[];
  /** The platform writes the frames (only changes, keyframes marked); otherwise ffmpeg grabs on a clock. */
  fed: boolean;
  keyframeIntervalFrames: number;
  framerate: number;
  size: ScreenSize;
  covered: readonly ScreenArea[];
}): string[] {
  const { size } = options;
  const pad = DECIMATE_PAD_PIXELS;
  // Blanked in the captured picture itself, so those pixels never reach the encoder.
  const blanks = options.covered.map(
    (r) => `drawbox=x=${r.x}:y=${r.y}:w=${r.width}:h=${r.height}:color=black:t=fill,`,
  );
  // Crop an odd last row or column rather than resample the whole picture to reach even sizes.
  const picture = `${blanks.join('')}crop=trunc(iw/2)*2:trunc(ih/2)*2:0:0,scale=${size.width}:${size.height},format=yuv420p`;
  // A fed stream holds changes only (the feed compares frames), and mpdecimate would drop the frame
  // written again for a keyframe. On a clock, mpdecimate drops every frame identical to the last kept:
  // it compares in YUV, so the conversion x264 needs comes first; hi=0:lo=0:frac=0 keeps a frame as
  // soon as one 8x8 block differs at all (a screen grab has no noise to ignore).
  const decimate = `pad=iw+${pad}:ih:${pad}:0,mpdecimate=hi=0:lo=0:frac=0,crop=iw-${pad}:ih:${pad}:0`;
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    // A screen grabber's stream parameters are known up front; without these ffmpeg reads about
    // 20 frames to probe them, which delays the first picture by up to 2 s on a small screen.
    ...['-probesize', '32', '-analyzeduration', '0'],
    ...options.inputArgs,
    ...['-vf', options.fed ? picture : `${picture},${decimate}`],
    // Dropped frames stay dropped: no duplicates to fill a constant frame rate.
    ...(options.fed ? MARKED_KEYFRAME_OUTPUT_ARGS : ['-vsync', 'vfr']),
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
    ...['-pix_fmt', 'yuv420p', '-bf', '0', '-g', String(Math.max(1, options.keyframeIntervalFrames))],
    // x264 takes its frame rate from the encoder's time base, a microsecond for a fed stream: it would
    // pick the H.264 level for a million frames a second (6.2, which decoders may refuse).
    ...['-x264-params', `fps=${options.framerate}`],
    // SPS and PPS come once, in FLV's sequence header; the demuxer puts them into every keyframe.
    // Hand every packet to the pipe at once instead of when ffmpeg's 32 KB output buffer fills.
    ...['-flush_packets', '1', '-f', 'flv', 'pipe:1'],
  ];
}

function evenFloor(value: number): number {
  return Math.max(2, value - (value % 2));
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

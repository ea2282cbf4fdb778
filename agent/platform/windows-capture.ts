import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { RawVideoWriter } from '../media/raw-video-feed.ts';
import type { FrameFeed, FrameFeedHooks, FrameFraming, ScreenArea } from './platform.ts';
import { type CaptureBand, type CaptureMessage, CaptureStreamReader } from './windows-capture-stream.ts';

/** Most frames a second the helper takes (its own limit). */
const HELPER_MAX_FPS = 120;
/** How much of the helper's stderr is kept to explain its exit, in characters. */
const STDERR_TAIL_CHARS = 2048;

export interface WindowsCaptureOptions {
  /** The desktop rectangle captured, in virtual-desktop pixels. */
  area: ScreenArea;
  /** Most frames per second written. */
  framerate: number;
  /** The encoder's standard input: raw BGR0 frames of `area`'s size, framed by `framing`. */
  stdin: Writable;
  /** How frames are framed; ffmpeg's Matroska (`RawVideoWriter`) when absent. */
  framing?: FrameFraming;
  hooks: FrameFeedHooks;
}

/**
 * Feeds the encoder the Windows desktop only when it changes, from the desktop helper's `capture`
 * (DXGI Desktop Duplication, or GDI compared with the last picture: agent/platform/windows/capture.c).
 * The helper writes the first picture at once, then only the rows that changed; they are written to
 * the encoder as whole frames (`RawVideoWriter`), or as bands where the encoder keeps its last
 * picture (`bandHeader`). Where the hooks take the cursor (`onCursorShape` and `onPointer`) the
 * helper leaves it out of the picture and reports its image and position apart, as X11 does;
 * otherwise it draws it into the picture.
 *
 * Keyframes come only when asked: `requestKeyframe` has the helper write its picture whole at once,
 * changed or not, and that frame is marked. A stream that breaks the format stops the capture with
 * `hooks.onError`, as does the helper ending on its own.
 */
export function startWindowsCapture(helper: string, options: WindowsCaptureOptions): FrameFeed {
  const { area, stdin, hooks } = options;
  const maxFps = Math.max(1, Math.min(Math.round(options.framerate), HELPER_MAX_FPS));
  const writer: FrameFraming = options.framing ?? new RawVideoWriter(area);
  const reader = new CaptureStreamReader(area);
  const rowBytes = area.width * 4;
  /** The picture as the helper last left it: bands are laid on it, and whole frames copied from it. */
  const picture = Buffer.alloc(rowBytes * area.height);
  let stopped = false;
  let stderrTail = '';
  stdin.write(writer.header());

  const cursorApart = hooks.onCursorShape !== undefined && hooks.onPointer !== undefined;
  const child = spawn(
    helper,
    [
      'capture',
      ...[area.x, area.y, area.width, area.height, maxFps].map(String),
      ...(cursorApart ? ['cursor'] : []),
    ],
    { windowsHide: true, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    // The helper ends when its stdin closes; the kill is for a helper that hangs.
    child.stdin.destroy();
    child.kill();
  };
  const fail = (message: string) => {
    if (stopped) return;
    stop();
    hooks.onError(message);
  };

  const write = (band: CaptureBand): boolean => {
    band.rows.copy(picture, band.firstRow * rowBytes);
    // Only changed rows where the encoder keeps its picture; the whole frame (a copy: the picture
    // changes under a write still queued) for ffmpeg and for every keyframe.
    if (writer.bandHeader && !band.whole) {
      stdin.write(writer.bandHeader(band.firstRow, band.rows.byteLength, false));
      return stdin.write(band.rows);
    }
    stdin.write(writer.frameHeader(picture.byteLength, band.whole));
    return stdin.write(Buffer.from(picture));
  };

  child.stdout.on('data', (chunk: Buffer) => {
    if (stopped) return;
    let messages: CaptureMessage[];
    try {
      messages = reader.push(chunk);
    } catch (error) {
      fail(`the screen capture stopped: ${(error as Error).message}`);
      return;
    }
    let full = false;
    for (const message of messages) {
      if (message.kind === 'band') full = !write(message) || full;
      else if (message.kind === 'cursor-shape') hooks.onCursorShape?.(message.shape);
      else hooks.onPointer?.(message.position);
    }
    // A busy encoder holds the helper back (its writes block) instead of frames piling up here.
    if (full) {
      child.stdout.pause();
      stdin.once('drain', () => child.stdout.resume());
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS);
  });
  child.stdin.on('error', () => {});
  child.once('error', (error) => fail(`could not start the screen capture (${helper}): ${error.message}`));
  child.once('close', (code, signal) =>
    fail(
      `the screen capture helper ended (${signal ?? `exit code ${code}`}): ${stderrTail.trim() || 'no message'}`,
    ),
  );

  const command = (line: string) => {
    if (!stopped) child.stdin.write(`${line}\n`);
  };
  return {
    stop,
    requestKeyframe: () => command('keyframe'),
    setFrameRate: (fps) => command(`fps ${Math.max(1, Math.min(Math.round(fps), maxFps))}`),
  };
}

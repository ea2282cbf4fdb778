import type { Writable } from 'node:stream';
import type { GuidanceOverlay } from '../core/ports.ts';
import { createDarwinPlatform } from './darwin.ts';
import { PlatformError } from './errors.ts';
import { createLinuxPlatform } from './linux.ts';
import type { RobotLike } from './robot.ts';
import type { OwnFiles } from './self-delete.ts';
import { createWindowsPlatform } from './windows.ts';

/** A size in real pixels. */
export interface ScreenSize {
  width: number;
  height: number;
}

/** A rectangle of the desktop in real pixels: a monitor, or the whole desktop from (0, 0). */
export interface ScreenArea extends ScreenSize {
  x: number;
  y: number;
}

/** One monitor of the desktop, as the agent reports it (`monitors` message). */
export interface MonitorArea extends ScreenArea {
  name: string;
  primary: boolean;
}

/** A top-level application window the end user may share instead of the desktop. */
export interface AppWindow extends ScreenArea {
  /** The platform's handle for it (an X window id). */
  id: number;
  title: string;
}

/** A shared window as it is now. */
export interface WindowState {
  /** The part of the window on the screen, in desktop pixels. */
  area: ScreenArea;
  /** Unmapped, minimised or off the screen: nothing of it can be captured. */
  hidden: boolean;
  /** Parts of `area` other windows lie on, relative to `area`'s corner: never sent, blanked. */
  covered: ScreenArea[];
}

/**
 * Programs that read and write the clipboard's text: `read` prints it, `write` takes it on standard
 * input. A `write` that keeps running (X11's xclip serves the selection until another program takes
 * it) is stopped when the next text is written or the session ends.
 */
export interface ClipboardCommands {
  read: readonly string[];
  write: readonly string[];
  /** Environment added to the agent's for both (the X display). */
  env?: Record<string, string>;
  /** How long one `read` may take before it counts as failed, in ms (2 s when absent). */
  readTimeoutMs?: number;
}

/** The cursor's image, for the console to draw (the captured picture leaves it out). */
export interface CursorShape {
  /** Changes with the image; the same serial is never reported twice in a row. */
  serial: number;
  width: number;
  height: number;
  /** The hotspot: the pixel of the image that points, from its top-left corner. */
  hotX: number;
  hotY: number;
  /** Straight (not premultiplied) RGBA, `width * height * 4` bytes. */
  rgba: Uint8Array;
}

/** The pointer's position in the captured area's pixels; may lie outside it. */
export interface PointerPosition {
  x: number;
  y: number;
}

export interface FrameFeedHooks {
  /** The feed stopped for good (the display went away, an extension is missing). */
  onError(message: string): void;
  /** When present, the cursor's image on every change; the picture then has no cursor in it. */
  onCursorShape?(shape: CursorShape): void;
  /** When present, the pointer's position whenever it moved. */
  onPointer?(position: PointerPosition): void;
}

/**
 * How raw frames are framed on the encoder's standard input: ffmpeg's minimal Matroska
 * (`RawVideoWriter`, the default) or `lifeline-x264`'s frame header (`X264FrameWriter`).
 */
export interface FrameFraming {
  /** Written once, before the first frame. */
  header(): Uint8Array;
  /** Written before each frame of `frameBytes` bytes; `keyframe` marks one that must be an IDR. */
  frameHeader(frameBytes: number, keyframe: boolean): Uint8Array;
  /**
   * Present where the encoder keeps its last picture (`lifeline-x264`): written before a band of
   * `bandBytes` bytes of whole rows from `firstRow` on, which replaces only those rows.
   */
  bandHeader?(firstRow: number, bandBytes: number, keyframe: boolean): Uint8Array;
  /**
   * Present where the encoder can read the rows from the capture's shared memory (`lifeline-x264`
   * with its acks wired): used while `wholeMotion()` says nearly every picture changes whole.
   */
  shared?: SharedFraming;
}

/**
 * The rows of a frame handed through a shared memory segment the capture reads the screen into
 * (MIT-SHM), instead of through the encoder's standard input.
 */
export interface SharedFraming {
  /** Names the segment once: open `/proc/<pid>/fd/<fd>` (a whole frame's bytes). */
  segmentRecord(pid: number, fd: number): Uint8Array;
  /** Written before no payload: the band's `bandBytes` bytes lie in the segment at their place in a frame. */
  bandHeader(firstRow: number, bandBytes: number, keyframe: boolean): Uint8Array;
  /** Whether nearly every picture now changes whole (video mode): the rows read go as they are, uncompared. */
  wholeMotion(): boolean;
  /** Set by the capture: called when the encoder has copied the last band out and the segment may change. */
  onSegmentRead: (() => void) | undefined;
}

/** Frames being written to the encoder's standard input. */
export interface FrameFeed {
  stop(): void;
  /**
   * The next frame written is marked a keyframe (see `RawVideoWriter`); on a still screen the last
   * frame is written again at once, so a picture follows within one encoding time.
   */
  requestKeyframe(): void;
  /** Reads at most `fps` frames a second from now on (the link's pacing; see `VideoPacer`). */
  setFrameRate?(fps: number): void;
}

/** How ffmpeg reads the screen. */
export interface CaptureSource {
  /** ffmpeg input arguments, e.g. `['-f', 'x11grab', '-framerate', '30', '-video_size', '1280x720', '-i', ':99']`. */
  inputArgs: string[];
  /**
   * Present when ffmpeg reads raw frames from its standard input (`-i pipe:0`, as `RawVideoWriter`
   * writes them): writes them there, one each time the screen changes, until stopped, and marks the
   * frames that must be keyframes. Absent: ffmpeg grabs the screen itself, on a clock. `framing` is
   * how frames are written (`RawVideoWriter` for ffmpeg when absent): raw frames of `size`, BGRX.
   */
  feed?(stdin: Writable, hooks: FrameFeedHooks, framing?: FrameFraming): FrameFeed;
}

/**
 * Everything that differs between Linux, Windows and macOS. Code outside `agent/platform/` asks this
 * interface and never looks at `process.platform` itself.
 */
export interface Platform {
  readonly os: 'linux' | 'windows' | 'darwin';
  /** Size of the primary screen in the coordinate space input is injected in. */
  screenSize(): ScreenSize;
  /**
   * ffmpeg arguments that capture the primary screen. The captured picture may be larger than `size`
   * (HiDPI); the encoder scales it to `size` so that video and input share one coordinate space.
   */
  captureSource(options: {
    framerate: number;
    size: ScreenSize;
    origin?: { x: number; y: number };
  }): CaptureSource;
  /**
   * The desktop's monitors, when the platform can tell them apart and capture one (`origin` above);
   * absent or empty: the whole desktop is shared as one screen.
   */
  monitors?(): MonitorArea[];
  /**
   * The top-level windows with a title, when the platform can share one window alone (README
   * "Sharing one window"); absent: only the desktop or a monitor can be shared.
   */
  windows?(): Promise<AppWindow[]>;
  /**
   * Follows one window of `windows()`: `onChange` hears its state now and after every change, and
   * undefined once it is gone. Resolves to a function that stops following.
   */
  watchWindow?(id: number, onChange: (state: WindowState | undefined) => void): Promise<() => void>;
  /**
   * Paints guidance marks over the desktop (README "Guidance"); absent where the agent cannot yet
   * (macOS; Windows without its desktop helper), and then it does not offer guidance.
   */
  guidanceOverlay?(): GuidanceOverlay;
  /** The clipboard's programs; absent where the agent does not share the clipboard yet. */
  readonly clipboard?: ClipboardCommands;
  /** robotjs, loaded on first call and prepared for this OS. Throws a `PlatformError` if unusable. */
  robot(): RobotLike;
  /**
   * Whether a press that types a printable character (and no Ctrl, Alt or Meta is held) is injected
   * as that character (`typeString`) rather than as a key. Other keys and shortcuts stay keys.
   */
  readonly typesCharacters: boolean;
  /** robotjs scroll units that make one wheel notch: robotjs passes the raw OS unit through. */
  readonly wheelUnitsPerStep: number;
  /**
   * Removes the one-shot agent's own files when it is done: its private directory and, unless kept,
   * its executable. Linux and macOS unlink them at once; Windows locks a running executable and a
   * loaded add-on, so a detached helper removes them after this process exits — exit soon after.
   * Returns the paths that are not going away, for the user to delete by hand.
   */
  removeOwnFiles(files: OwnFiles): string[];
  // Later: permission prompts (macOS Screen Recording and Accessibility) belong here, one
  // implementation per platform file.
}

/**
 * The platform the agent runs on. This is the only place that switches on `process.platform`.
 * Throws a `PlatformError` on an unsupported OS, or on Linux when there is no X display to use.
 */
export function currentPlatform(): Platform {
  switch (process.platform) {
    case 'linux':
      return createLinuxPlatform();
    case 'win32':
      return createWindowsPlatform();
    case 'darwin':
      return createDarwinPlatform();
    default:
      throw new PlatformError(
        'unsupported-os',
        `Lifeline cannot share a ${process.platform} desktop; the agent runs on Linux (X11), Windows and macOS.`,
      );
  }
}

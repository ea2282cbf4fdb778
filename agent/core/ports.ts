import type {
  FileEntry,
  InputEvent,
  MessageOf,
  ModeOffer,
  Monitor,
  OperatorInfo,
  Permissions,
  SharedWindow,
} from '../../protocol/index.ts';

/**
 * What the runtime-neutral agent core needs from its host. The Node host implements these with a
 * terminal, ffmpeg and robotjs; tests and other runtimes bring their own.
 */

export interface VideoConfig {
  codec: string;
  width: number;
  height: number;
  framerate: number;
}

export interface AccessUnit {
  data: Uint8Array;
  keyframe: boolean;
  /** Milliseconds since the Unix epoch. */
  captureTime: number;
}

export interface ScreenStream {
  stop(): Promise<void>;
  /** Asks for a keyframe soon; a stream that cannot force one sends its next scheduled keyframe. */
  requestKeyframe(): void;
  /**
   * True when `requestKeyframe` makes one from the current picture at once (even on a still screen);
   * the sender then asks for a keyframe instead of replaying the frames since the last one.
   */
  readonly keyframesOnRequest?: boolean;
  /**
   * Captures at most `fps` pictures a second from now on (at most the rate it started with), where
   * the platform feeds the encoder itself (X11); absent where capture runs on ffmpeg's own clock.
   */
  setFrameRate?(fps: number): void;
  /**
   * Encodes from now on at this constant rate factor (x264's CRF: 23 is the start, higher is smaller
   * and softer), without a restart; absent where the encoder cannot (ffmpeg).
   */
  setQuality?(crf: number): void;
  /**
   * Caps the size of the pictures encoded from now on (undefined: no cap), lowering their quality
   * where needed, without a restart; absent where the encoder cannot (ffmpeg).
   */
  setBudget?(budget: PictureBudget | undefined): void;
}

/** How large the encoder's pictures may be: a thin link's bitrate budget (see `VideoPacer`). */
export interface PictureBudget {
  /** The mean over the pictures, at the rate they are captured now, bytes. */
  averageBytes: number;
  /** No picture larger, keyframes included, bytes. */
  largestBytes: number;
}

/** The cursor's image as the console draws it (`cursor-shape` without its type). */
export type CursorImage = Omit<MessageOf<'cursor-shape'>, 'type'>;

export interface ScreenSource {
  start(sink: {
    onConfig(config: VideoConfig): void;
    onAccessUnit(unit: AccessUnit): void;
    onError(message: string): void;
    /** The cursor's image on each change, from sources that leave it out of the picture. */
    onCursorShape?(image: CursorImage): void;
    /** The pointer's position in the picture's pixels, each time it moves (with `onCursorShape`). */
    onPointer?(x: number, y: number): void;
  }): Promise<ScreenStream>;
}

/**
 * The device's monitors and which one is shared. The screen source captures, and the input sink
 * maps pointer positions to, the selected one (all of them: the whole desktop).
 */
export interface MonitorLayout {
  /** The monitors now, in a stable order; fewer than two means there is nothing to choose. */
  list(): Monitor[];
  /** The index shared, or null for all of them. */
  readonly selected: number | null;
  /** Shares one monitor (an index of `list()`) or all (null); false when there is no such monitor. */
  select(index: number | null): boolean;
  /**
   * The one window the end user shares instead of the desktop, while they do: the screen shows only
   * it (nothing at all while it is hidden) and operators cannot choose a monitor.
   */
  readonly window?: SharedWindow | undefined;
}

/** The device's clipboard, text only. */
export interface ClipboardHost {
  /** The text on the clipboard now ('' when it holds none); undefined when it cannot be read. */
  read(): Promise<string | undefined>;
  /** Puts `text` on the clipboard, for the user to paste. */
  write(text: string): Promise<void>;
  /** Stops serving what was written (the session is over). */
  close(): Promise<void>;
}

/** A rectangle of the desktop in real pixels. */
export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Paints guidance marks over the user's screen (README "Guidance"): above every window, never taking
 * input. Linux draws with an X11 shaped window (agent/platform/x11-overlay.ts); Windows and macOS
 * have none yet, so their agents do not offer guidance.
 */
/** The desktop pixels of one operator's marks, in their colour (24-bit RGB). */
export interface GuidanceLayer {
  colour: number;
  rectangles: readonly PixelRect[];
}

export interface GuidanceOverlay {
  /** Shows exactly these layers' rectangles, each in its colour, replacing what was shown; none shows nothing. */
  show(layers: readonly GuidanceLayer[]): Promise<void>;
  /** Removes the overlay for good. */
  close(): Promise<void>;
}

export interface InputSink {
  apply(event: InputEvent): void;
  /** Lifts every key and button still held. */
  releaseAll(): void;
}

/** The end user's side: asking for consent, telling what happens, and letting them change their mind. */
export interface UserInterface {
  showCode(code: string, expiresAt: Date): void;
  /**
   * Resolves with what the user allows; all false (or `accepted: false`) refuses. `modes` says which
   * session mode was asked for and which it starts in (README "Guidance"), and which others the user
   * may choose instead.
   */
  askConsent(
    operator: OperatorInfo,
    requested: Permissions,
    modes?: ModeOffer,
  ): Promise<{ accepted: boolean; permissions: Permissions }>;
  /**
   * An operator asks, during the session, for capabilities the user has not allowed yet (`missing`,
   * already within the flags and the policy). Resolves with the part the user allows; only one such
   * question is open at a time. A user interface without it refuses every such request.
   */
  askMore?(operator: OperatorInfo, missing: Permissions): Promise<Permissions>;
  /**
   * An additional operator asks to join a session the user already accepted (README "Several
   * operators"). Resolves true to let them in. A user interface without it is asked with
   * `askConsent`, whose `accepted` answers.
   */
  askJoin?(operator: OperatorInfo): Promise<boolean>;
  /** Who is connected now, and which of them controls the mouse and keyboard. */
  operatorsChanged?(operators: readonly ConnectedOperator[]): void;
  status(text: string): void;
  /** Shown when the operator set changes or permissions change. */
  permissionsChanged(permissions: Permissions): void;
  ended(reason: string): void;
  /**
   * Told once, before anything is asked, when the session's verified policy makes recording
   * mandatory: the end user must know the session is recorded.
   */
  sessionRecorded?(): void;
  /** Shows a chat message from the help desk. A user interface without it offers no chat. */
  chatReceived?(message: ChatLine): void;
  /**
   * An operator sends a file: the user accepts it (under the name offered or one they choose, inside
   * the shared folder) or refuses it. `signal` aborts when the operator gives up meanwhile. A user
   * interface without it takes files without asking (background access: audited, not prompted).
   */
  offerFile?(offer: IncomingFile, signal: AbortSignal): Promise<IncomingFileAnswer>;
}

/** An operator the end user let in, as their terminal lists them. */
export interface ConnectedOperator {
  /** Their connection's slot: what the user names to remove them. */
  slot: number;
  name: string;
  /** Whether their input reaches this device (one operator at a time). */
  inControl: boolean;
}

/** A file an operator sends, as the end user is asked about it. */
export interface IncomingFile {
  /** The operator's display name. */
  operator: string;
  /** Where the operator asked to put it: a wire path inside the shared folder. */
  path: string;
  /** In bytes. */
  size: number;
  /** The shared folder's absolute path on this device, for display. */
  root: string;
}

/** The end user's answer: refused, or accepted under a wire path inside the shared folder. */
export type IncomingFileAnswer = { accepted: false } | { accepted: true; path: string };

/** A chat message from the help desk, as the end user sees it. */
export interface ChatLine {
  /** The operator's display name. */
  from: string;
  text: string;
  /** When the relay received it, in milliseconds since the Unix epoch. */
  sentAt: number;
}

/** How a shell or a command ended: an exit code, or the signal that stopped it. */
export interface ProcessExit {
  exitCode: number | null;
  signal: string | null;
}

/** An interactive shell running in a pseudo-terminal on the device. */
export interface TerminalProcess {
  /** The program that runs, for display: `/bin/bash`, `powershell.exe`. */
  readonly shell: string;
  /** Keystrokes from the operator. */
  write(data: Uint8Array): void;
  resize(cols: number, rows: number): void;
  /** Stops reading the terminal's output (back-pressure) until `resume`. */
  pause(): void;
  resume(): void;
  /** Ends the shell and what runs in its terminal. `onExit` still follows. */
  kill(): void;
}

/** Opens shells in pseudo-terminals. */
export interface ShellHost {
  /**
   * Starts the user's shell in the shared folder. Output goes to `onData` and the end to `onExit`,
   * which are never called before this resolves. Throws a `ChannelFailure` when it cannot start.
   */
  open(options: {
    cols: number;
    rows: number;
    onData(data: Uint8Array): void;
    onExit(exit: ProcessExit): void;
  }): Promise<TerminalProcess>;
}

/** One command running without a terminal and without input. */
export interface CommandProcess {
  /** Stops reading its output (back-pressure) until `resume`. */
  pause(): void;
  resume(): void;
  /** Ends the command and every process it started. `onExit` still follows. */
  kill(): void;
}

/** Runs one command line with the platform's shell (`/bin/sh -c`, `cmd.exe /d /s /c`). */
export interface CommandHost {
  /**
   * Starts `command` in `cwd`, a path inside the shared folder (`''` for the folder itself). Output
   * goes to `onOutput`; `onExit` comes after the last output. Throws a `ChannelFailure` when the
   * command cannot start (a `cwd` outside the folder is PATH_OUTSIDE_FOLDER).
   */
  run(options: {
    command: string;
    cwd: string;
    onOutput(stream: 'stdout' | 'stderr', data: Uint8Array): void;
    onExit(exit: ProcessExit): void;
  }): Promise<CommandProcess>;
}

/** What kind of thing a path names, and how big and how old it is. */
export interface FileStat {
  type: 'file' | 'directory' | 'link' | 'other';
  /** In bytes. */
  size: number;
  /** Milliseconds since the Unix epoch. */
  modifiedAt: number;
}

/** A file open for a download. */
export interface FileReader {
  /** In bytes, when it was opened. */
  readonly size: number;
  readonly modifiedAt: number;
  /**
   * The file's identity when it was opened, as a strong validator: it changes whenever the content
   * may have changed (the operator's HTTP ETag is made from it).
   */
  readonly version: string;
  /** The identity now; it differs from `version` once the file was written to while open. */
  currentVersion(): Promise<string>;
  /** Up to `length` bytes at `offset`; fewer (or none) at the end of the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** The SHA-256 of the whole file, lowercase hex. */
  sha256(): Promise<string>;
  close(): Promise<void>;
}

/** A file open for an upload; its existing bytes are kept. */
export interface FileWriter {
  /** In bytes, when it was opened. */
  readonly size: number;
  truncate(size: number): Promise<void>;
  write(offset: number, data: Uint8Array): Promise<void>;
  /** The SHA-256 of the whole file, lowercase hex. */
  sha256(): Promise<string>;
  close(): Promise<void>;
}

/**
 * The folder the agent shares. Every path is a wire path: relative to the folder, `/`-separated,
 * `''` for the folder itself. Each method resolves it and throws a `ChannelFailure` with the result
 * code the operator gets (PATH_OUTSIDE_FOLDER, FILE_NOT_FOUND, NOT_A_FILE, NOT_A_FOLDER, FILE_EXISTS,
 * IO_ERROR).
 */
export interface FileHost {
  /** The shared folder's absolute path on this device, for display. */
  readonly root: string;
  /** Every entry of a folder, in no particular order; links are reported as links. */
  list(path: string): Promise<FileEntry[]>;
  /** What `path` names (links followed), or undefined when nothing is there. */
  stat(path: string): Promise<FileStat | undefined>;
  openRead(path: string): Promise<FileReader>;
  /** Opens a file for writing, creating it if missing; a link there is refused (NOT_A_FILE), never followed. */
  openWrite(path: string): Promise<FileWriter>;
  /** Renames a file or folder. Without `replace`, an existing `to` is FILE_EXISTS. */
  rename(from: string, to: string, options: { replace: boolean }): Promise<void>;
  /**
   * Copies a file, or a folder with everything in it (links are copied as links, never followed;
   * sockets and devices are left out). An existing `to` is FILE_EXISTS; a folder into itself is refused.
   */
  copy(from: string, to: string): Promise<void>;
  /** Creates one folder; its parent must exist. */
  mkdir(path: string): Promise<void>;
  /** Removes a file, a link or an empty folder, never a folder's contents. */
  remove(path: string): Promise<void>;
}

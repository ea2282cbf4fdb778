/**
 * The stream between the agent and its own H.264 encoder, `lifeline-x264`
 * (`agent/media/x264/lifeline-x264.c`, built statically against libx264 by `npm run build`).
 *
 * The agent writes raw BGRX frames, each after a 16-byte header that can ask for an IDR and set the
 * quality from that frame on, or after a 16-byte rate record that caps the pictures' size from the next
 * frame on (x264's VBV); the encoder answers each frame with one access unit (Annex B, SPS and
 * PPS in every keyframe) after a 16-byte header. The encoder keeps its last picture, so a frame may
 * be only the band of rows that changed ("LLF2"; "LLF1" is a whole frame). Both headers are
 * little-endian:
 *
 * ```
 * frame: "LLF1" | u32 frame bytes | u8 flags (1: IDR, 2: half size) | u8 crf (0: unchanged) | u16 0         | u32 time (ms)
 * band:  "LLF2" | u32 band bytes  | u8 flags (1: IDR, 2: half size) | u8 crf (0: unchanged) | u16 first row | u32 time (ms)
 * rate:  "LLR1" | u32 0           | u32 average picture (bytes)  | u32 largest picture (bytes; both 0: no cap)
 * unit:  "LLU1" | u32 unit bytes  | u8 flags (1: IDR) | 3 bytes 0                             | u32 time (ms)
 * ```
 *
 * Shared memory (`SharedFraming`, where the reader's acks reach the writer): "LLS1" | u32 0 | u32 pid
 * | u32 fd names the capture's MIT-SHM segment once, and "LLF3" (an LLF2 without payload) says the band
 * lies in it; the encoder answers each LLF3 with "LLA1" | u32 0 | u32 0 | u32 time once it has copied
 * the rows out, and only then may the X server write the segment again.
 *
 * x264 runs zerolatency and constrained baseline as ffmpeg ran it, with settings for screen content
 * (see SCREEN_PARAMS in lifeline-x264.c), so each frame is encoded as soon as it is written and
 * nothing waits for the next one.
 *
 * Video mode: while the screen is in full motion (`VideoModePolicy`) frames are marked "half size";
 * the encoder then encodes at half each side, and goes back to full size with an IDR when the mark
 * goes (both changes are IDRs, with their own SPS).
 */
import type { PictureBudget } from '../core/ports.ts';
import type { FrameFraming, ScreenArea, SharedFraming } from '../platform/platform.ts';
import type { AccessUnit } from './annexb.ts';
import { VideoModePolicy } from './video-mode.ts';

const FRAME_MARK = 0x3146_4c4c; // "LLF1" read as a little-endian u32
const BAND_MARK = 0x3246_4c4c; // "LLF2"
const SHARED_BAND_MARK = 0x3346_4c4c; // "LLF3"
const SEGMENT_MARK = 0x3153_4c4c; // "LLS1"
const ACK_MARK = 0x3141_4c4c; // "LLA1"
const UNIT_MARK = 0x3155_4c4c; // "LLU1"
const RATE_MARK = 0x3152_4c4c; // "LLR1"
const HEADER_BYTES = 16;
const FLAG_KEYFRAME = 1;
const FLAG_HALF = 2;
/** x264's CRF range: 0 is lossless, which the encoder's header keeps for "unchanged". */
export const MIN_CRF = 1;
export const MAX_CRF = 51;
/** ffmpeg's default quality for libx264, kept so the picture looks as it did. */
export const DEFAULT_CRF = 23;
/**
 * x264's VBV at the start, kbit/s and kbit: on, so that a thin link's budget can lower it without a
 * restart (x264 changes its VBV only when it was on from the start), and far above any picture.
 */
const UNCAPPED_KBIT = 1_000_000;

/** What `lifeline-x264` is started with. */
export interface X264EncoderSettings {
  /** Size of the frames written, in pixels; an odd last column or row is left out of the picture. */
  width: number;
  height: number;
  /** For x264's level and rate control; frames come only when the screen changes. */
  framerate: number;
  /** Most encoded frames from one keyframe to the next. */
  keyframeIntervalFrames: number;
  /** Parts of the frame painted black before encoding. */
  covered: readonly ScreenArea[];
}

/** The command-line arguments of `lifeline-x264` for these settings. */
export function x264Arguments(settings: X264EncoderSettings): string[] {
  return [
    ...['--width', String(settings.width), '--height', String(settings.height)],
    ...['--fps', String(Math.max(1, Math.round(settings.framerate)))],
    ...['--keyint', String(Math.max(1, settings.keyframeIntervalFrames))],
    ...['--crf', String(DEFAULT_CRF)],
    // Constant QP while no budget is in force: x264 skips capped CRF's whole-picture lookahead and
    // AQ on every picture however little changed (typed text: smaller, sharper, less CPU); a budget
    // that a picture would break reopens the encoder under capped CRF (see lifeline-x264.c).
    ...['--constant-qp', 'on'],
    ...['--max-kbit', String(UNCAPPED_KBIT), '--buffer-kbit', String(UNCAPPED_KBIT)],
    ...settings.covered.flatMap((r) => ['--cover', `${r.x},${r.y},${r.width},${r.height}`]),
  ];
}

/**
 * Frames each raw frame for `lifeline-x264`: a keyframe request and the current quality travel with
 * the frame they apply to, so neither needs the encoder restarted.
 *
 * Given the frame's size it also chooses video mode (`VideoModePolicy`) from the rows each frame
 * changed, and marks the frames to encode at half size; a still screen leaves video mode by calling
 * `onVideoModeEnd`, which must write a frame (a keyframe request: no rows).
 *
 * @example
 * const framing = new X264FrameWriter({ width: 1920, height: 1080 });
 * framing.onVideoModeEnd = () => feed.requestKeyframe();
 * const reader = new X264UnitReader(() => framing.shared?.onSegmentRead?.()); // bands through shared memory
 * framing.setQuality(30); // from the next frame on
 * stdin.write(framing.frameHeader(frame.byteLength, true));
 * stdin.write(frame);
 * framing.close();
 */
export class X264FrameWriter implements FrameFraming {
  private readonly startedAt = performance.now();
  private crf = DEFAULT_CRF;
  /** A rate record to write before the next frame. */
  private pendingRate: Uint8Array | undefined;
  private readonly videoMode: VideoModePolicy | undefined;
  private readonly rowBytes: number;
  private readonly height: number;
  private leaveTimer: ReturnType<typeof setTimeout> | undefined;
  /** Called when a still screen should leave video mode: write a frame (e.g. request a keyframe). */
  onVideoModeEnd: (() => void) | undefined;
  /** In video mode, bands through the capture's shared memory (when asked for: the reader's acks must reach it). */
  readonly shared: SharedFraming | undefined;

  /**
   * `size`: the frames' size, for video mode; without it every frame is encoded whole. `sharedMemory`:
   * offer `shared`, whose `onSegmentRead` the caller calls for each ack (`X264UnitReader`).
   */
  constructor(size?: { width: number; height: number }, options: { sharedMemory?: boolean } = {}) {
    this.videoMode = size ? new VideoModePolicy(size) : undefined;
    this.rowBytes = (size?.width ?? 0) * 4;
    this.height = size?.height ?? 0;
    const mode = this.videoMode;
    this.shared =
      mode && options.sharedMemory
        ? {
            segmentRecord: (pid, fd) => {
              const record = new Uint8Array(HEADER_BYTES);
              const view = new DataView(record.buffer);
              view.setUint32(0, SEGMENT_MARK, true);
              view.setUint32(8, pid, true);
              view.setUint32(12, fd, true);
              return record;
            },
            bandHeader: (firstRow, bandBytes, keyframe) =>
              this.header16(SHARED_BAND_MARK, bandBytes, keyframe, firstRow),
            wholeMotion: () => mode.reducedAt(performance.now()),
            onSegmentRead: undefined,
          }
        : undefined;
  }

  /** Stops the timer that ends video mode on a still screen. */
  close(): void {
    clearTimeout(this.leaveTimer);
    this.leaveTimer = undefined;
    this.onVideoModeEnd = undefined;
  }

  /**
   * x264's constant rate factor for the frames written from now on: higher is smaller and blurrier
   * (with no budget in force the encoder codes at constant QP, this + 2).
   */
  setQuality(crf: number): void {
    this.crf = Math.round(Math.min(MAX_CRF, Math.max(MIN_CRF, crf)));
  }

  /** The current constant rate factor. */
  quality(): number {
    return this.crf;
  }

  /**
   * Caps the pictures from the next frame on (x264's VBV; the encoder must have started with
   * `x264Arguments`, which turn it on): on average `averageBytes` a picture, none larger than `largestBytes`, lowering the quality where a picture would be larger.
   * Undefined lifts the cap.
   */
  setBudget(budget: PictureBudget | undefined): void {
    const header = new Uint8Array(HEADER_BYTES);
    const view = new DataView(header.buffer);
    view.setUint32(0, RATE_MARK, true);
    const average = budget ? Math.max(1, Math.round(budget.averageBytes)) : 0;
    view.setUint32(8, Math.min(average, 0xffff_ffff), true);
    view.setUint32(
      12,
      budget ? Math.min(Math.max(average, Math.round(budget.largestBytes)), 0xffff_ffff) : 0,
      true,
    );
    this.pendingRate = header;
  }

  /** The encoder takes its settings from its command line: nothing goes before the first frame. */
  header(): Uint8Array {
    return new Uint8Array(0);
  }

  frameHeader(frameBytes: number, keyframe: boolean): Uint8Array {
    return this.header16(FRAME_MARK, frameBytes, keyframe, 0);
  }

  /**
   * Before `bandBytes` bytes of whole rows from row `firstRow` on (none at all: the picture as it
   * was, e.g. for a keyframe on a still screen). The rest of the encoder's picture stays as it was.
   */
  bandHeader(firstRow: number, bandBytes: number, keyframe: boolean): Uint8Array {
    return this.header16(BAND_MARK, bandBytes, keyframe, firstRow);
  }

  private header16(mark: number, bytes: number, keyframe: boolean, firstRow: number): Uint8Array {
    const half = this.halfSize(mark === FRAME_MARK ? this.height : bytes / Math.max(1, this.rowBytes));
    const rate = this.pendingRate;
    this.pendingRate = undefined;
    // A new cap travels just before the frame it applies to, in the same write.
    const header = new Uint8Array((rate ? HEADER_BYTES : 0) + HEADER_BYTES);
    if (rate) header.set(rate);
    const view = new DataView(header.buffer, rate ? HEADER_BYTES : 0);
    view.setUint32(0, mark, true);
    view.setUint32(4, bytes, true);
    view.setUint8(8, (keyframe ? FLAG_KEYFRAME : 0) | (half ? FLAG_HALF : 0));
    view.setUint8(9, this.crf);
    view.setUint16(10, firstRow, true);
    // Wraps after 49 days, which the encoder's timestamps (pass-through only) do not mind.
    view.setUint32(12, Math.round(performance.now() - this.startedAt) >>> 0, true);
    return header;
  }

  /** Video mode's verdict for a frame that changed `rows` rows, and the timer that ends it on a still screen. */
  private halfSize(rows: number): boolean {
    const mode = this.videoMode;
    if (!mode) return false;
    const now = performance.now();
    const half = mode.picture(rows, now);
    const leaveAt = mode.leaveAt();
    if (leaveAt !== undefined && !this.leaveTimer) this.armLeave(leaveAt - now);
    return half;
  }

  private armLeave(ms: number): void {
    this.leaveTimer = setTimeout(
      () => {
        this.leaveTimer = undefined;
        const leaveAt = this.videoMode?.leaveAt();
        if (leaveAt === undefined) return;
        const left = leaveAt - performance.now();
        // Motion went on since the timer was set: wait for its new end.
        if (left > 0) this.armLeave(left);
        else this.onVideoModeEnd?.();
      },
      Math.max(0, ms),
    );
    this.leaveTimer.unref?.();
  }
}

/**
 * Splits `lifeline-x264`'s output into access units as bytes arrive: each unit is handed on the
 * moment its last byte is read. Throws on a header without its mark (the stream is out of step).
 */
export class X264UnitReader {
  private pending: Buffer = Buffer.alloc(0);

  /** `onSegmentRead`: told each ack (the encoder copied a band out of shared memory, `SharedFraming`). */
  constructor(private readonly onSegmentRead?: () => void) {}

  push(chunk: Buffer): AccessUnit[] {
    this.pending = this.pending.byteLength === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const units: AccessUnit[] = [];
    let offset = 0;
    while (this.pending.byteLength - offset >= HEADER_BYTES) {
      if (this.pending.readUInt32LE(offset) === ACK_MARK) {
        offset += HEADER_BYTES;
        this.onSegmentRead?.();
        continue;
      }
      if (this.pending.readUInt32LE(offset) !== UNIT_MARK)
        throw new Error('lifeline-x264 wrote a unit header without its mark');
      const size = this.pending.readUInt32LE(offset + 4);
      const end = offset + HEADER_BYTES + size;
      if (this.pending.byteLength < end) break;
      units.push({
        // A copy, so the unit does not hold on to the whole chunk it came in.
        data: new Uint8Array(this.pending.subarray(offset + HEADER_BYTES, end)),
        keyframe: (this.pending.readUInt8(offset + 8) & FLAG_KEYFRAME) !== 0,
      });
      offset = end;
    }
    this.pending = this.pending.subarray(offset);
    return units;
  }
}

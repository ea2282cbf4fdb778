/**
 * When to encode a large screen at reduced resolution ("video mode", as KasmVNC, Selkies and Parsec
 * do): while most of the picture changes in picture after picture, the encoder's time goes with the
 * pixels it encodes, and half each side costs a quarter; a moving picture hides the lost detail.
 * Once the motion stops the screen goes back to full size with a keyframe, so text is sharp again.
 */

/** Pictures at most this large are always encoded whole: 720p meets its frame rate at full size. */
export const VIDEO_MODE_MIN_PIXELS = 1280 * 720;
/** A picture whose changed rows span at least this share of the screen's height counts as motion. */
export const MOTION_SHARE = 0.5;
/**
 * Motion for this long, without a gap longer than MOTION_GAP_MS and in at least MIN_MOTION_PICTURES
 * moving pictures, enters video mode, in ms.
 */
export const ENTER_AFTER_MS = 1000;
export const MIN_MOTION_PICTURES = 3;
/**
 * A longer pause between two moving pictures starts the count again, in ms. Long, because the rate
 * pictures come at is no guide: a loaded machine's 1080p capture or a thin link (3 fps, `VideoPacer`)
 * sends full motion a few pictures a second, with gaps of 400 ms and more, and those are where fewer
 * pixels help most (a benchmark under load 15 never entered with 400 ms).
 */
export const MOTION_GAP_MS = 1000;
/** Video mode ends this long after the last moving picture, in ms. */
export const LEAVE_AFTER_MS = 1000;

/**
 * Decides, picture by picture, whether a large screen is encoded at reduced size. Pure: the caller
 * passes the clock.
 *
 * @example
 * const mode = new VideoModePolicy({ width: 1920, height: 1080 });
 * const reduced = mode.picture(changedRows, performance.now()); // true: encode this one at half size
 * setTimeout(check, mode.leaveAt() - performance.now()); // a still screen leaves it by a new picture
 */
export class VideoModePolicy {
  readonly #enabled: boolean;
  readonly #motionRows: number;
  /** The first moving picture of the current run of motion; undefined: none. */
  #motionSince: number | undefined;
  /** Moving pictures in the current run. */
  #motionPictures = 0;
  #lastMotionAt = Number.NEGATIVE_INFINITY;
  #reduced = false;

  constructor(size: { width: number; height: number }) {
    this.#enabled = size.width * size.height > VIDEO_MODE_MIN_PIXELS;
    this.#motionRows = Math.max(1, Math.ceil(size.height * MOTION_SHARE));
  }

  /** Whether pictures are encoded at reduced size now. */
  get reduced(): boolean {
    return this.#reduced;
  }

  /**
   * A picture in which `changedRows` rows (the band from the first changed row to the last) changed,
   * written at `now` (ms); returns whether it is encoded at reduced size.
   */
  picture(changedRows: number, now: number): boolean {
    if (!this.#enabled) return false;
    if (changedRows >= this.#motionRows) {
      if (this.#motionSince === undefined || now - this.#lastMotionAt > MOTION_GAP_MS) {
        this.#motionSince = now;
        this.#motionPictures = 0;
      }
      this.#motionPictures++;
      this.#lastMotionAt = now;
      if (now - this.#motionSince >= ENTER_AFTER_MS && this.#motionPictures >= MIN_MOTION_PICTURES)
        this.#reduced = true;
    }
    return this.reducedAt(now);
  }

  /** Whether the screen is still reduced at `now`, for a still screen (no picture): false once it should go back. */
  reducedAt(now: number): boolean {
    if (this.#reduced && now - this.#lastMotionAt >= LEAVE_AFTER_MS) {
      this.#reduced = false;
      this.#motionSince = undefined;
    }
    return this.#reduced;
  }

  /** When video mode ends if no moving picture comes before, in ms; undefined outside it. */
  leaveAt(): number | undefined {
    return this.#reduced ? this.#lastMotionAt + LEAVE_AFTER_MS : undefined;
  }
}

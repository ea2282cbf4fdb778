/**
 * Where the console decodes and converts pictures: on the page, which draws each decoded picture
 * itself (the lower latency on a quiet machine: headless Chromium converts a 1080p picture in
 * ~16 ms there), or in the video worker, which hands the page finished RGBA pixels to put on the
 * canvas (about 1 ms of the page's main thread per picture, so a busy page does not fall further
 * behind). See README "Where agent send → drawn goes".
 */
export type VideoPath = 'worker' | 'main thread';

declare global {
  interface Window {
    /** Which path the console's video takes now (it may change during a session); unset before any video. */
    lifelineVideoPath?: VideoPath;
    /**
     * Pins the path instead of choosing it by measurement, for the benchmark's before/after runs and
     * the tests; set before the console starts. A pinned 'worker' still falls back to the page where
     * a worker cannot decode.
     */
    lifelineVideoPathPinned?: VideoPath;
  }
}

/** The window over which the page's main thread is measured, ms. */
const WINDOW_MS = 1000;
/**
 * Share of a window the main thread may be busy (drawing pictures or other long tasks): past it the
 * console is behind, and on the page path counts towards moving to the worker.
 */
const BUSY_SHARE_TO_WORKER = 0.6;
/**
 * Pictures skipped in one window (the decoder, on the page or in the worker, had a newer unit
 * waiting) that count as falling behind.
 */
const SKIPPED_TO_WORKER = 3;
/**
 * Mean main-thread ms per picture drawn on the page path above which the worker shows pictures
 * sooner: it converts in `VideoFrame.copyTo` at about half the page's `drawImage` cost and the page
 * then spends 1–2 ms putting the pixels (1080p: 13.5 ms on the page against 5.6 converting plus 1.9
 * putting on a quiet machine, 17–30 against 4–9 plus 2 at load 10–13; 720p, 7–8 ms on the page, came
 * out even). README "Where agent send → drawn goes".
 */
const DRAW_MS_TO_WORKER = 12;
/** Windows in a row the page must fall behind before decoding moves to the worker. */
const BEHIND_WINDOWS_TO_WORKER = 2;
/**
 * On the worker path: the share of a window the main thread would be busy on the page path (its long
 * tasks plus the pictures at the page's last measured drawing cost) below which decoding moves back.
 */
const BUSY_SHARE_TO_PAGE = 0.25;
/** Quiet windows in a row before decoding moves back to the page: longer, so the path does not flap. */
const QUIET_WINDOWS_TO_PAGE = 10;

/**
 * Chooses the video path from what the page's main thread goes through, one window at a time: the
 * page path while the page keeps up, the worker once it falls behind for a sustained window (its
 * drawing plus other long tasks take most of the time, or pictures are skipped) or its pictures cost
 * more to draw than the worker's (large pictures), and back once the page has been quiet for longer
 * and its last measured drawing cost was below that. The renderer reports each drawn picture and each main-thread
 * long task; {@link next} says which path the stream should take.
 * @example
 * const chooser = new VideoPathChooser('main thread');
 * chooser.drawn(performance.now(), drawMs, skippedSoFar);
 * if (chooser.next(performance.now()) === 'worker') moveToWorker();
 */
export class VideoPathChooser {
  #path: VideoPath;
  #windowStart: number | undefined;
  #pictures = 0;
  #drawMs = 0;
  #longTaskMs = 0;
  #skipped = 0;
  #streak = 0;
  /** The page path's drawing cost per picture, ms, last measured there. */
  #pageDrawMs = 0;
  #behind = false;

  constructor(path: VideoPath) {
    this.#path = path;
  }

  get path(): VideoPath {
    return this.#path;
  }

  /**
   * Whether the console fell behind the pictures in the last whole window, on either path: the main
   * thread busy most of it (pictures skipped for newer ones do not count: a burst from the link skips
   * them too). The agent hears it with the receipts
   * (`video-received`'s `behind`) and sends fewer pictures rather than smaller ones.
   */
  get behind(): boolean {
    return this.#behind;
  }

  /** A picture was drawn at `now`; `drawMs` is the main thread's time for it, `skipped` pictures skipped before it. */
  drawn(now: number, drawMs: number, skipped: number): void {
    this.#windowStart ??= now;
    this.#pictures++;
    this.#drawMs += drawMs;
    this.#skipped += skipped;
  }

  /** A long task ran on the page's main thread (the Long Tasks API: one of 50 ms or more). */
  longTask(durationMs: number): void {
    this.#longTaskMs += durationMs;
  }

  /** The path the video should take from now; call after each picture. */
  next(now: number): VideoPath {
    if (this.#windowStart === undefined || now - this.#windowStart < WINDOW_MS) return this.#path;
    const elapsed = now - this.#windowStart;
    // A draw long enough to be a long task is in both sums: the page is then behind anyway.
    const busy = (this.#drawMs + this.#longTaskMs) / elapsed;
    // Skipped pictures move the path but are not the console's word to the agent: a thin link's
    // retransmissions deliver pictures in bursts, and a burst skips pictures on a console with time
    // to spare (the thin-link benchmark then had its frame rate cut instead of its budget).
    this.#behind = busy > BUSY_SHARE_TO_WORKER;
    if (this.#path === 'main thread') {
      if (this.#pictures > 0) this.#pageDrawMs = this.#drawMs / this.#pictures;
      // Pictures this costly to draw show sooner through the worker, behind or not.
      const costly = this.#pictures > 0 && this.#pageDrawMs > DRAW_MS_TO_WORKER;
      const skipping = this.#skipped >= SKIPPED_TO_WORKER;
      this.#streak = this.#behind || skipping || costly ? this.#streak + 1 : 0;
      if (this.#streak >= BEHIND_WINDOWS_TO_WORKER) this.#move('worker');
    } else {
      const busy = (this.#pictures * this.#pageDrawMs + this.#longTaskMs) / elapsed;
      const quiet = busy < BUSY_SHARE_TO_PAGE && this.#pageDrawMs <= DRAW_MS_TO_WORKER;
      this.#streak = quiet ? this.#streak + 1 : 0;
      if (this.#streak >= QUIET_WINDOWS_TO_PAGE) this.#move('main thread');
    }
    this.#startWindow(now);
    return this.#path;
  }

  #move(path: VideoPath): void {
    this.#path = path;
    this.#streak = 0;
  }

  #startWindow(now: number): void {
    this.#windowStart = now;
    this.#pictures = 0;
    this.#drawMs = 0;
    this.#longTaskMs = 0;
    this.#skipped = 0;
  }
}

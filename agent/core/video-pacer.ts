import type { MessageOf, VideoPreference } from '../../protocol/index.ts';
import { LinkBudget } from './link-budget.ts';
import type { PictureBudget } from './ports.ts';

/** Frame rates the pacer steps through, highest first; capped at the capture's own rate. */
const FRAME_RATES = [30, 20, 15, 10, 6, 3, 1] as const;
/**
 * The queueing each preference tolerates before pictures are cut, in ms: `video-backlog`'s `ms` (the
 * relay → console path) above the least seen lately, which is the path's own delay. `speed` keeps
 * input → display under about a quarter of a second on a thin link (issue 13); `quality` lets more
 * pictures through at more delay.
 */
const TARGET_MS: Record<VideoPreference, number> = { speed: 100, quality: 300 };
/**
 * x264's constant rate factor at the full frame rate (ffmpeg's default, 23), and how much it rises for
 * each rung below: fewer pictures, each smaller and softer, so that each also gets through sooner.
 */
const FULL_QUALITY_CRF = 23;
const CRF_PER_RUNG = 2;
/** The fewest pictures a second each preference goes down to. */
const FLOOR_FPS: Record<VideoPreference, number> = { speed: 3, quality: 6 };
/** Least time between two cuts, in ms: a cut shows in the backlog only after the queue drained. */
const CUT_EVERY_MS = 500;
/** Time without a cut, and with queueing under a third of the target, before a step back up, in ms. */
const RAISE_AFTER_MS = 1_000;
/** How long the least backlog seen stands for the path's own delay, in ms. */
const BASE_WINDOW_MS = 30_000;
/**
 * After a cut of the bitrate budget, how long video may still queue before the frame rate is cut
 * too, in ms: the budget's share leaves the queue about this long to drain.
 */
const FPS_AFTER_BUDGET_MS = 1_000;
/** A queue lasting longer than this after a budget cut has the budget cut again (measured anew), ms. */
const BUDGET_RETRY_MS = 3_000;
/** More than this many bytes on the agent's own socket is a backlog too: its uplink is the thin part. */
const UPLINK_BACKLOG_BYTES = 256 * 1024;

/**
 * Chooses how many pictures a second the screen is captured at, from how much video is on the way
 * (the relay's `video-backlog`, and the agent's own socket): when the link cannot keep up, fewer
 * pictures are encoded — each shows the screen as it is then — rather than seconds of pictures
 * queueing up behind each other. Cuts fast (a rung, two when far over), raises slowly (a rung after
 * a calm spell), as TCP does.
 *
 * Where the encoder can cap its pictures' size (`budgeted`), a queue first cuts the bitrate budget
 * (`LinkBudget`: a share of what the link was seen to deliver, each picture at most a few tens of ms
 * of it) and keeps the frame rate: at one bitrate, more and smaller pictures each wait less — for
 * the capture and behind each other. The frame rate goes down only when video still queues a
 * second after a budget cut, and comes back up before the budget does.
 *
 * A console that says it is behind the pictures (short of CPU, not of link: `video-backlog`'s
 * `behind`) has the frame rate cut at once when video queues, the budget left alone, and neither
 * raised while it says so.
 *
 * @example
 * const pacer = new VideoPacer(30);
 * pacer.sent(frame.byteLength);
 * if (pacer.backlog(report.ms, Date.now(), report.bytes, report.behind)) stream.setFrameRate?.(pacer.fps);
 */
export class VideoPacer {
  #prefer: VideoPreference = 'speed';
  #rung = 0;
  /** The rung of the capture's own rate: full quality. */
  #topRung = 0;
  #changedAt = Number.NEGATIVE_INFINITY;
  #backlogMs = 0;
  /** Recent backlog reports, oldest first, for the path's own delay (their least). */
  #recent: Array<{ at: number; ms: number }> = [];
  readonly #budget = new LinkBudget();
  /** When a queue last had the budget cut for it (or tried to: the link's rate may not be known). */
  #budgetTriedAt = Number.NEGATIVE_INFINITY;
  /** Whether the slowest operator's console said, at its last receipt, that it is behind the pictures. */
  #consoleBehind = false;
  /** Whether the encoder caps its pictures' size (`PictureBudget`): then a queue cuts the bitrate first. */
  budgeted = false;

  constructor(private maxFps: number) {
    this.setMaxFps(maxFps);
  }

  /**
   * The encoder's constant rate factor now, where it can change it without a restart
   * (`lifeline-x264`): full quality at the capture's own rate, lower a step with each rung cut.
   */
  get crf(): number {
    return FULL_QUALITY_CRF + CRF_PER_RUNG * Math.max(0, this.#rung - this.#topRung);
  }

  /** Pictures a second the capture may take now. */
  get fps(): number {
    return Math.min(this.maxFps, FRAME_RATES[this.#rung] ?? 1);
  }

  /**
   * How large the pictures may be now, or undefined for no cap: the budget over the pictures a
   * second the capture takes now, and none longer on the link than a few tens of ms.
   */
  get budget(): PictureBudget | undefined {
    const kbps = this.budgeted ? this.#budget.kbps : undefined;
    const largest = this.#budget.largestPictureBytes(this.#prefer);
    if (kbps === undefined || largest === undefined) return undefined;
    const averageBytes = (kbps * 1000) / 8 / this.fps;
    return { averageBytes, largestBytes: Math.max(averageBytes, largest) };
  }

  get prefer(): VideoPreference {
    return this.#prefer;
  }

  /** The capture's own rate changed (a new stream): the cap, never exceeded. */
  setMaxFps(maxFps: number): void {
    this.maxFps = maxFps;
    // Rungs above the cap would change nothing: start from the first one below it.
    while ((FRAME_RATES[this.#rung] ?? 1) > maxFps && this.#rung < FRAME_RATES.length - 1) this.#rung++;
    this.#topRung = 0;
    while ((FRAME_RATES[this.#topRung] ?? 1) > maxFps && this.#topRung < FRAME_RATES.length - 1)
      this.#topRung++;
  }

  /** What the operators see in their quality panel. */
  status(): MessageOf<'video-adaptation'> {
    return {
      type: 'video-adaptation',
      fps: this.fps,
      maxFps: this.maxFps,
      prefer: this.#prefer,
      backlogMs: Math.round(this.#backlogMs),
      ...(this.budgeted && this.#budget.kbps !== undefined ? { kbps: Math.round(this.#budget.kbps) } : {}),
    };
  }

  /** An operator chose; true when the preference changed. A looser preference may raise at once. */
  setPreference(prefer: VideoPreference): boolean {
    if (prefer === this.#prefer) return false;
    this.#prefer = prefer;
    while (this.fps < FLOOR_FPS[prefer] && this.#rung > 0) this.#rung--;
    return true;
  }

  /** The agent's socket holds `bytes`; true when the frame rate changed. */
  uplink(bytes: number, now: number): boolean {
    return bytes > UPLINK_BACKLOG_BYTES ? this.#queueing(TARGET_MS[this.#prefer] * 2, now) : false;
  }

  /** A video frame of `bytes` went to the relay (for the rate the link delivers). */
  sent(bytes: number): void {
    this.#budget.sent(bytes);
  }

  /**
   * The relay says the video on the way takes `ms` (and is `bytes` long), and whether the console it
   * goes to says it is `behind` (absent: an older console, taken as keeping up); true when the frame
   * rate, the quality or the budget changed.
   */
  backlog(ms: number, now: number, bytes?: number, behind?: boolean): boolean {
    this.#backlogMs = ms;
    this.#consoleBehind = behind === true;
    this.#recent.push({ at: now, ms });
    while ((this.#recent[0]?.at ?? now) < now - BASE_WINDOW_MS) this.#recent.shift();
    // What the path itself takes (the round trip, the console's own pace) is no queue to cut for.
    const base = Math.min(...this.#recent.map((report) => report.ms));
    const queued = ms - base > TARGET_MS[this.#prefer] / 3;
    const kbps = this.#budget.kbps;
    if (bytes !== undefined) this.#budget.delivered(bytes, now, queued, this.#consoleBehind);
    // A cut just undone for a console found behind is a change too.
    const undone = this.#budget.kbps !== kbps;
    return this.#queueing(ms - base, now) || undone;
  }

  #queueing(ms: number, now: number): boolean {
    const target = TARGET_MS[this.#prefer];
    const before = this.fps;
    const kbpsBefore = this.#budget.kbps;
    if (ms > target) {
      if (now - this.#changedAt < CUT_EVERY_MS) return false;
      // A console behind the pictures needs fewer of them, not smaller ones: those are cut at once.
      const budgetFirst = this.budgeted && !this.#consoleBehind;
      if (budgetFirst && now - this.#budgetTriedAt >= BUDGET_RETRY_MS) {
        // The budget gets the first go, even when the link's rate cannot be told yet (too few
        // reports of bytes piling up): pictures are cut only if video still queues a second on.
        this.#budgetTriedAt = now;
        if (!this.#budget.cut(this.#prefer)) return false;
        this.#changedAt = now;
        return true;
      } else if (budgetFirst) {
        // The budget just cut leaves the queue a moment to drain before pictures are cut too.
        if (now - this.#budgetTriedAt < FPS_AFTER_BUDGET_MS) return false;
        // A second later the link's rate may be known; if bytes still do not pile up, pictures go.
        if (this.#budget.kbps === undefined && this.#budget.cut(this.#prefer)) {
          this.#changedAt = now;
          return true;
        }
      }
      const steps = ms > 3 * target ? 2 : 1;
      for (let i = 0; i < steps; i++) {
        const next = FRAME_RATES[this.#rung + 1];
        if (next === undefined || next < FLOOR_FPS[this.#prefer]) break;
        this.#rung++;
      }
    } else if (this.#consoleBehind) {
      // Neither more pictures nor larger ones while the console says it cannot keep up.
      return false;
    } else if (ms < target / 3 && this.#rung > 0) {
      if (now - this.#changedAt < RAISE_AFTER_MS) return false;
      this.#rung--;
    } else if (ms < target / 3 && this.budgeted && now - this.#changedAt >= RAISE_AFTER_MS) {
      if (!this.#budget.raise()) return false;
      this.#changedAt = now;
      return true;
    }
    if (this.fps === before && this.#budget.kbps === kbpsBefore) return false;
    this.#changedAt = now;
    return true;
  }
}

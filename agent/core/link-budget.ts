import type { VideoPreference } from '../../protocol/index.ts';

/** How far back the delivery rate is measured, ms: a few receipts (the relay reports every 200 ms). */
const RATE_WINDOW_MS = 2_000;
/** The least span of receipts a rate is measured over, ms: one report alone tells no rate. */
const MIN_RATE_SPAN_MS = 400;
/**
 * The share of the measured link rate the video may use after a cut: under 1, so the queue that
 * made the cut drains (at 0.7, 100 ms of queue goes in about a quarter of a second), with room
 * for the cursor, the control messages and TCP's own overhead.
 */
const SHARE: Record<VideoPreference, number> = { speed: 0.7, quality: 0.85 };
/**
 * How long the largest picture may take on the link at its measured rate, ms: a keyframe or a scene
 * change that fills the link for longer delays every picture behind it. `quality` allows more.
 */
const LARGEST_PICTURE_MS: Record<VideoPreference, number> = { speed: 50, quality: 150 };
/**
 * How much the budget rises after each calm second, as a share of the measured rate: quickly up to
 * RAISE_SLOWLY_ABOVE of it, slowly past it (probing whether the link got faster).
 */
const RAISE_FAST = 0.05;
const RAISE_SLOW = 0.02;
const RAISE_SLOWLY_ABOVE = 0.8;
/** Past this many times the measured rate the budget is lifted: the link was not what limited. */
const LIFT_ABOVE = 1.5;
/** The least budget, kbit/s: below it a picture is no longer worth looking at; frame rate cuts instead. */
const MIN_KBPS = 150;

/**
 * A bitrate budget for the video from what the operators' consoles say they received: the agent
 * counts the video bytes it sends, the relay says how many are still on the way to the slowest
 * operator (`video-backlog`'s `bytes`), and the difference grows at the rate the link delivers.
 * While video queues up that rate is what the link carries, so a cut sets the budget to a share of
 * it; calm seconds raise it again, quickly up to near that rate and slowly past it, and lift it once
 * it is well above (as TCP's congestion window does, but for pictures).
 *
 * @example
 * const budget = new LinkBudget();
 * budget.sent(frame.byteLength);                   // each video frame sent
 * budget.delivered(report.bytes, Date.now(), queueing); // each `video-backlog`
 * if (queueing) budget.cut('speed');              // true: `budget.kbps` changed
 */
export class LinkBudget {
  #sent = 0;
  /** Bytes delivered (sent less still on the way) at each report, and whether video queued then; oldest first. */
  #deliveries: Array<{ at: number; bytes: number; onTheWay: number; queued: boolean }> = [];
  #kbps: number | undefined;
  #linkKbps: number | undefined;

  /** The video's budget, kbit/s; undefined while the link has not been seen to limit it. */
  get kbps(): number | undefined {
    return this.#kbps;
  }

  /** The link's rate as measured at the last cut, kbit/s. */
  get linkKbps(): number | undefined {
    return this.#linkKbps;
  }

  /** The largest picture the link carries in LARGEST_PICTURE_MS, bytes; undefined without a budget. */
  largestPictureBytes(prefer: VideoPreference): number | undefined {
    if (this.#kbps === undefined || this.#linkKbps === undefined) return undefined;
    return (this.#linkKbps * LARGEST_PICTURE_MS[prefer]) / 8;
  }

  /** A video frame of `bytes` went to the relay. */
  sent(bytes: number): void {
    this.#sent += bytes;
  }

  /**
   * The relay says `onTheWay` bytes of video are still on the way to the slowest operator, and
   * whether that is a queue (`queued`: the path takes longer than its own delay).
   */
  delivered(onTheWay: number, now: number, queued: boolean): void {
    this.#deliveries.push({ at: now, bytes: Math.max(0, this.#sent - onTheWay), onTheWay, queued });
    while ((this.#deliveries[0]?.at ?? now) < now - RATE_WINDOW_MS) this.#deliveries.shift();
  }

  /**
   * What the link delivered lately, kbit/s, and whether bytes piled up meanwhile, in both halves of
   * it (more sent than delivered: the link, not the sender, set the rate); undefined when too few reports. The reports
   * since video began to queue tell the link's rate best; with too few of them, the whole window.
   */
  delivery(): { kbps: number; piledUp: boolean } | undefined {
    const last = this.#deliveries.at(-1);
    let start = this.#deliveries.length - 1;
    while (start > 0 && this.#deliveries[start]?.queued) start--;
    for (const from of [start, 0]) {
      const first = this.#deliveries[from];
      if (!first || !last || last.at - first.at < MIN_RATE_SPAN_MS) continue;
      // Growing over both halves of the span: a link behind, not a console late once (a step).
      const middle = this.#deliveries.find((delivery) => delivery.at >= (first.at + last.at) / 2) ?? last;
      return {
        kbps: ((last.bytes - first.bytes) * 8) / (last.at - first.at),
        piledUp: middle.onTheWay > first.onTheWay && last.onTheWay > middle.onTheWay,
      };
    }
    return undefined;
  }

  /**
   * Video queues up: the budget becomes a share of what the link delivered while bytes piled up
   * (never more than it was). False when the link was not seen to limit — too few reports, or no
   * bytes piling up (a queue draining after a cut, a console slow for want of CPU) — or the budget
   * is already at its least.
   */
  cut(prefer: VideoPreference): boolean {
    const delivery = this.delivery();
    if (!delivery?.piledUp || delivery.kbps <= 0) return false;
    const before = this.#kbps;
    this.#linkKbps = delivery.kbps;
    this.#kbps = Math.max(
      MIN_KBPS,
      Math.min(before ?? Number.POSITIVE_INFINITY, SHARE[prefer] * delivery.kbps),
    );
    return this.#kbps !== before;
  }

  /** A calm second: the budget rises (see RAISE_FAST); true when it changed. */
  raise(): boolean {
    if (this.#kbps === undefined || this.#linkKbps === undefined) return false;
    const link = this.#linkKbps;
    this.#kbps += (this.#kbps < RAISE_SLOWLY_ABOVE * link ? RAISE_FAST : RAISE_SLOW) * link;
    if (this.#kbps > LIFT_ABOVE * link) this.#kbps = undefined;
    return true;
  }
}

import type { VideoPreference } from '../../protocol/index.ts';

/** How far back the delivery rate is measured, ms: a few receipts (the relay reports every 200 ms). */
const RATE_WINDOW_MS = 2_000;
/** The least span of receipts a rate is measured over, ms: one report alone tells no rate. */
const MIN_RATE_SPAN_MS = 400;
/** The fewest reports a trend of the bytes on the way is fitted to: two points always make a line. */
const MIN_TREND_REPORTS = 3;
/**
 * How sure the growth of the bytes on the way must be before it counts as a pile-up: its
 * least-squares slope this many standard errors above zero (one-sided, about 95 % sure with four
 * reports, 99 % with ten), so that noise in the receipts does not read as a link behind.
 */
const PILE_UP_T = 3;
/** …and growing by at least this share of the delivery rate: slower growth is noise or a draining step. */
const PILE_UP_SHARE = 0.05;
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
 * RAISE_SLOWLY_ABOVE of it, slowly up to the rate itself (probing near where the link was behind),
 * and quickly again past it: calm there, the link has become faster.
 */
const RAISE_FAST = 0.05;
const RAISE_SLOW = 0.02;
const RAISE_SLOWLY_ABOVE = 0.8;
/** Past this many times the rate measured at the cut the budget is lifted: the link was not what limited. */
const LIFT_ABOVE = 1.5;
/**
 * A console that says it is behind within this long of a cut has the cut undone, ms: it judges a
 * whole second before it says, so bytes that piled up behind it may have made the cut.
 */
const UNDO_CUT_WITHIN_MS = 2_500;
/** The least budget, kbit/s: below it a picture is no longer worth looking at; frame rate cuts instead. */
const MIN_KBPS = 150;

/** What the link delivered over the span measured: kbit/s, and whether bytes piled up. */
export interface Delivery {
  kbps: number;
  piledUp: boolean;
}

/** One `video-backlog` as the budget keeps it. */
interface Report {
  at: number;
  /** Bytes delivered so far: sent less still on the way. */
  bytes: number;
  onTheWay: number;
  /** Whether video queued then (the path took longer than its own delay). */
  queued: boolean;
}

/**
 * Whether `points` (time in ms, bytes on the way) grow: their least-squares slope, in bytes a second,
 * and how many standard errors it stands above zero (infinite for points exactly on a rising line;
 * zero for two points, which tell a slope but not how sure it is).
 */
export function trend(points: ReadonlyArray<{ at: number; onTheWay: number }>): {
  perSecond: number;
  t: number;
} {
  const n = points.length;
  if (n < 2) return { perSecond: 0, t: 0 };
  const meanAt = points.reduce((sum, p) => sum + p.at, 0) / n;
  const meanBytes = points.reduce((sum, p) => sum + p.onTheWay, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.at - meanAt) ** 2;
    sxy += (p.at - meanAt) * (p.onTheWay - meanBytes);
  }
  if (sxx === 0) return { perSecond: 0, t: 0 };
  const slope = sxy / sxx;
  if (n === 2) return { perSecond: slope * 1000, t: 0 };
  let residuals = 0;
  for (const p of points) residuals += (p.onTheWay - meanBytes - slope * (p.at - meanAt)) ** 2;
  const standardError = Math.sqrt(residuals / (n - 2) / sxx);
  const t = standardError > 0 ? slope / standardError : slope > 0 ? Number.POSITIVE_INFINITY : 0;
  return { perSecond: slope * 1000, t };
}

/**
 * A bitrate budget for the video from what the operators' consoles say they received: the agent
 * counts the video bytes it sends, the relay says how many are still on the way to the slowest
 * operator (`video-backlog`'s `bytes`), and the difference grows at the rate the link delivers.
 * While video piles up (the least-squares trend of the bytes on the way rises, surely: see
 * PILE_UP_T) that rate is what the link carries, so a cut sets the budget to a share of it; calm
 * seconds raise it again, quickly up to near that rate, slowly up to it and quickly past it, and
 * lift it once it is well above (as TCP's congestion window does, but for pictures).
 *
 * A console short of CPU piles video up too, and receipts come late from a page busy drawing. The
 * console says so itself (`video-backlog`'s `behind`): what is delivered meanwhile is not measured
 * (see {@link delivered}), and its pacer cuts pictures, not the budget.
 *
 * @example
 * const budget = new LinkBudget();
 * budget.sent(frame.byteLength);                   // each video frame sent
 * budget.delivered(report.bytes, Date.now(), queueing, report.behind); // each `video-backlog`
 * if (queueing) budget.cut('speed');              // true: `budget.kbps` changed
 */
export class LinkBudget {
  #sent = 0;
  /** Recent reports, oldest first (RATE_WINDOW_MS). */
  #reports: Report[] = [];
  #kbps: number | undefined;
  /** The link's rate: measured at the last cut for the link, raised by calm deliveries above it. */
  #linkKbps: number | undefined;
  /** What the last cut measured: the budget is lifted well above it (LIFT_ABOVE). */
  #cut: Delivery | undefined;
  /** The last cut's time and what it changed, to undo it for a console found behind just after. */
  #undo:
    | { at: number; kbps: number | undefined; linkKbps: number | undefined; cut: Delivery | undefined }
    | undefined;

  /** The video's budget, kbit/s; undefined while the link has not been seen to limit it. */
  get kbps(): number | undefined {
    return this.#kbps;
  }

  /** The link's rate as last measured, kbit/s. */
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
   * The relay says `onTheWay` bytes of video are still on the way to the slowest operator, whether
   * that is a queue (`queued`: the path takes longer than its own delay), and whether that operator's
   * console says it is behind the pictures (`consoleBehind`). Bytes that pile up behind a console
   * short of CPU tell nothing of the link: the reports so far are forgotten, the next measure
   * starts once the console keeps up again, and a cut made just before (UNDO_CUT_WITHIN_MS) is undone.
   */
  delivered(onTheWay: number, now: number, queued: boolean, consoleBehind = false): void {
    const bytes = Math.max(0, this.#sent - onTheWay);
    if (consoleBehind) {
      this.#reports = [];
      const undo = this.#undo;
      this.#undo = undefined;
      if (undo && now - undo.at <= UNDO_CUT_WITHIN_MS) {
        this.#kbps = undo.kbps;
        this.#linkKbps = undo.linkKbps;
        this.#cut = undo.cut;
      }
      return;
    }
    this.#reports.push({ at: now, bytes, onTheWay, queued });
    while ((this.#reports[0]?.at ?? now) < now - RATE_WINDOW_MS) this.#reports.shift();
    // Calm, the link carried what was delivered: a link measured lower has become faster.
    const calm = queued ? undefined : this.#measure(0);
    if (this.#linkKbps !== undefined && calm && !calm.piledUp && calm.kbps > this.#linkKbps) {
      this.#linkKbps = calm.kbps;
    }
  }

  /**
   * What the link delivered lately, and whether bytes piled up meanwhile (more sent than delivered:
   * the link, or the console, not the sender, set the rate); undefined when too few reports. The
   * reports since video began to queue tell the link's rate best; with too few of them, the window.
   */
  delivery(): Delivery | undefined {
    let start = this.#reports.length - 1;
    while (start > 0 && this.#reports[start]?.queued) start--;
    return this.#measure(start) ?? this.#measure(0);
  }

  #measure(from: number): Delivery | undefined {
    const span = this.#reports.slice(from);
    const first = span[0];
    const last = span.at(-1);
    if (!first || !last || span.length < MIN_TREND_REPORTS || last.at - first.at < MIN_RATE_SPAN_MS)
      return undefined;
    const kbps = ((last.bytes - first.bytes) * 8) / (last.at - first.at);
    const growth = trend(span);
    // Sure growth, and still growing lately: a step (a console late once) flattens in its later half.
    const later = trend(span.slice(Math.floor(span.length / 2)));
    const piledUp =
      growth.t >= PILE_UP_T && growth.perSecond >= (PILE_UP_SHARE * kbps * 1000) / 8 && later.perSecond > 0;
    return { kbps, piledUp };
  }

  /**
   * Video queues up: when bytes piled up on the link, the budget becomes a share of what it
   * delivered (never more than it was); true when it changed. False when nothing was told — too few
   * reports, or no bytes piling up (a queue draining after a cut) — or the budget is already at its least.
   */
  cut(prefer: VideoPreference): boolean {
    const delivery = this.delivery();
    if (!delivery?.piledUp || delivery.kbps <= 0) return false;
    const before = this.#kbps;
    const now = this.#reports.at(-1)?.at ?? 0;
    this.#undo = { at: now, kbps: before, linkKbps: this.#linkKbps, cut: this.#cut };
    this.#cut = delivery;
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
    const probing = this.#kbps >= RAISE_SLOWLY_ABOVE * link && this.#kbps < link;
    this.#kbps += (probing ? RAISE_SLOW : RAISE_FAST) * link;
    // Well above the rate measured at the cut (not the link's rate since, which rises with the budget).
    if (this.#kbps > LIFT_ABOVE * (this.#cut?.kbps ?? link)) {
      this.#kbps = undefined;
      this.#cut = undefined;
    }
    return true;
  }
}

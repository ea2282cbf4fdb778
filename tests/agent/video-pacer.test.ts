import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PictureBudget } from '../../agent/core/ports.ts';
import { VideoPacer } from '../../agent/core/video-pacer.ts';

/** How often the relay reports the backlog, ms (at most every 200 ms). */
const REPORT_MS = 200;
/** The thin link of issue 13, kbit/s. */
const LINK_KBPS = 4_000;

/**
 * A link the agent sends video over at `sendKbps` while it delivers at most `linkKbps`: every
 * REPORT_MS the relay says what is on the way (bytes) and how long it takes (ms, the path's own
 * 40 ms plus the queue), as `video-backlog` does. Answers whether any report changed the pacer.
 */
function simulate(
  pacer: VideoPacer,
  clock: { now: number; onTheWay: number },
  options: { sendKbps: () => number; linkKbps: number; forMs: number },
): boolean {
  let changed = false;
  for (let t = 0; t < options.forMs; t += REPORT_MS) {
    const sent = (options.sendKbps() * REPORT_MS) / 8;
    const drained = (options.linkKbps * REPORT_MS) / 8;
    pacer.sent(sent);
    clock.onTheWay = Math.max(0, clock.onTheWay + sent - drained);
    clock.now += REPORT_MS;
    const queueMs = (clock.onTheWay * 8) / options.linkKbps;
    if (pacer.backlog(40 + queueMs, clock.now, clock.onTheWay)) changed = true;
  }
  return changed;
}

/** An encoder that would make 6 Mbit/s of video, and keeps to the pacer's budget. */
function budgetFollowed(pacer: VideoPacer): () => number {
  const budgetKbps = () => ((pacer.budget?.averageBytes ?? Number.POSITIVE_INFINITY) * 8 * pacer.fps) / 1000;
  return () => Math.min(6_000, budgetKbps());
}

/** The pacer's budget now (a call, so that the type checker does not keep an earlier assertion's narrowing). */
function budgetOf(pacer: VideoPacer): PictureBudget | undefined {
  return pacer.budget;
}

/** A pacer whose path took 40 ms when nothing queued (the least it remembers). */
function calmPacer(budgeted: boolean) {
  const pacer = new VideoPacer(30);
  pacer.budgeted = budgeted;
  const clock = { now: 1_000_000, onTheWay: 0 };
  simulate(pacer, clock, { sendKbps: () => 1_000, linkKbps: LINK_KBPS, forMs: 3_000 });
  return { pacer, clock };
}

describe('VideoPacer on a thin link', () => {
  it('video that queues up cuts the bitrate budget to a share of what the link delivers, and keeps the frame rate', () => {
    const { pacer, clock } = calmPacer(true);
    assert.equal(budgetOf(pacer), undefined, 'no cap before the link was seen to limit');
    // 6 Mbit/s into a 4 Mbit/s link: the queue grows by 2 Mbit/s until the budget holds it; long
    // enough for a frame-rate cut, had the budget not drained the queue.
    const changed = simulate(pacer, clock, {
      sendKbps: budgetFollowed(pacer),
      linkKbps: LINK_KBPS,
      forMs: 2_500,
    });
    assert.ok(changed);
    const budget = budgetOf(pacer);
    assert.ok(budget, 'a budget');
    assert.equal(pacer.fps, 30, 'the frame rate stays');
    const kbps = (budget.averageBytes * 8 * pacer.fps) / 1000;
    assert.ok(kbps >= 0.7 * LINK_KBPS && kbps <= 0.8 * LINK_KBPS, `the budget: ${kbps} kbit/s`);
    // No picture may hold the 4 Mbit/s link for more than 50 ms: 25,000 bytes.
    assert.ok(budget.largestBytes <= 25_000 + 1, `the largest picture: ${budget.largestBytes} bytes`);
    assert.ok(budget.largestBytes >= budget.averageBytes);
    assert.equal(pacer.status().kbps, Math.round(kbps), 'the operators hear the budget');
  });

  it('the frame rate is cut only when video still queues a second after the budget was cut', () => {
    const { pacer, clock } = calmPacer(true);
    // Whatever the budget, the encoder cannot make its pictures smaller: the queue keeps growing.
    const fpsSeen: number[] = [];
    for (let i = 0; i < 15; i++) {
      simulate(pacer, clock, { sendKbps: () => 6_000, linkKbps: LINK_KBPS, forMs: REPORT_MS });
      fpsSeen.push(pacer.fps);
    }
    // The budget is cut at the first report over the target (the third here); pictures only a second later.
    const firstCut = fpsSeen.findIndex((fps) => fps < 30);
    assert.ok(firstCut >= 6, `the frame rate went down at report ${firstCut}: ${fpsSeen.join(', ')}`);
    assert.ok(pacer.fps < 30, 'and went down in the end');
  });

  it('calm seconds raise the budget again, and lift it once it is well above what the link delivered', () => {
    const { pacer, clock } = calmPacer(true);
    simulate(pacer, clock, { sendKbps: () => 6_000, linkKbps: LINK_KBPS, forMs: 800 });
    const cut = pacer.status().kbps;
    assert.ok(cut !== undefined, 'a budget');
    // The queue drains (nothing sent), then the link is calm.
    simulate(pacer, clock, { sendKbps: () => 0, linkKbps: LINK_KBPS, forMs: 3_000 });
    const raised = pacer.status().kbps;
    assert.ok(raised !== undefined && raised > cut, `raised from ${cut} to ${raised} kbit/s`);
    simulate(pacer, clock, { sendKbps: () => 500, linkKbps: LINK_KBPS, forMs: 60_000 });
    assert.equal(pacer.budget, undefined, 'lifted');
    assert.equal(pacer.fps, 30);
  });

  it('a console late for want of CPU, which receives all that was sent, gets fewer pictures, not a budget', () => {
    const { pacer, clock } = calmPacer(true);
    // Nothing piles up on the way (everything sent is received), but every receipt comes 300 ms late.
    for (let i = 0; i < 10; i++) {
      pacer.sent((2_000 * REPORT_MS) / 8);
      clock.now += REPORT_MS;
      pacer.backlog(340, clock.now, 10_000);
    }
    assert.equal(budgetOf(pacer), undefined, 'no budget: the link was not what limited');
    assert.ok(pacer.fps < 30, `fps ${pacer.fps}`);
  });

  it('an encoder that cannot cap its pictures gets the frame rate cut at once, as before', () => {
    const { pacer, clock } = calmPacer(false);
    simulate(pacer, clock, { sendKbps: () => 6_000, linkKbps: LINK_KBPS, forMs: 1_500 });
    assert.ok(pacer.fps < 30, `fps ${pacer.fps}`);
    assert.equal(pacer.budget, undefined);
    assert.equal(pacer.status().kbps, undefined);
  });

  it('the quality preference allows larger pictures than speed', () => {
    const speed = calmPacer(true);
    const quality = calmPacer(true);
    quality.pacer.setPreference('quality');
    for (const { pacer, clock } of [speed, quality]) {
      simulate(pacer, clock, { sendKbps: budgetFollowed(pacer), linkKbps: LINK_KBPS, forMs: 3_000 });
    }
    assert.equal(speed.pacer.fps, 30);
    const speedLargest = speed.pacer.budget?.largestBytes ?? 0;
    const qualityLargest = quality.pacer.budget?.largestBytes ?? 0;
    assert.ok(speedLargest > 0);
    assert.ok(qualityLargest > speedLargest, `${qualityLargest} > ${speedLargest}`);
  });
});

/**
 * A path frame by frame, for the cases `simulate` cannot show: video goes through a link of
 * `linkKbps` (bytes a second) and then a console that draws at most `consolePps` pictures a second
 * (a console short of CPU), first in first out. The encoder makes `naturalBytes` a picture, or the
 * budget's share when smaller, at the pacer's frame rate; the relay reports after each of `gaps()`.
 * A console that `says` so reports whether a whole picture waited for it in its last whole second
 * (it was behind), as the console's `behind` does, a second late; one that does not is an older console.
 */
class FramePath {
  /** The simulation's step, ms. */
  static readonly TICK_MS = 5;
  now = 1_000_000;
  #queue: Array<{ bytes: number; left: number; at: number }> = [];
  #nextFrameAt = this.now;
  #pictureCredit = 0;
  /** Whether a whole picture waited for the console in this second, and in the last whole one. */
  #consoleWaited = false;
  #consoleBehind = false;
  #windowEnd = this.now + 1000;
  readonly fpsSeen: number[] = [];
  readonly kbpsSeen: Array<number | undefined> = [];

  constructor(
    readonly pacer: VideoPacer,
    public path: { linkKbps: number; consolePps?: number; naturalBytes: number; says?: boolean },
  ) {}

  /** Runs for `forMs`, reporting after each gap `gap()` answers (200 ms unless told). */
  run(forMs: number, gap: () => number = () => REPORT_MS): void {
    const end = this.now + forMs;
    let nextReportAt = this.now + gap();
    for (; this.now < end; this.now += FramePath.TICK_MS) {
      while (this.#nextFrameAt <= this.now) {
        const bytes = Math.min(
          this.path.naturalBytes,
          this.pacer.budget?.averageBytes ?? Number.POSITIVE_INFINITY,
        );
        this.pacer.sent(bytes);
        this.#queue.push({ bytes, left: bytes, at: this.#nextFrameAt });
        this.#nextFrameAt += 1000 / this.pacer.fps;
      }
      let bytes = (this.path.linkKbps * FramePath.TICK_MS) / 8;
      if (this.path.consolePps !== undefined) {
        this.#pictureCredit = Math.min(
          1,
          this.#pictureCredit + (this.path.consolePps * FramePath.TICK_MS) / 1000,
        );
      }
      while (this.#queue[0] && bytes > 0) {
        const front = this.#queue[0];
        const take = Math.min(bytes, front.left);
        front.left -= take;
        bytes -= take;
        if (front.left > 0) break;
        if (this.path.consolePps !== undefined) {
          if (this.#pictureCredit < 1) {
            this.#consoleWaited = true;
            break;
          }
          this.#pictureCredit -= 1;
        }
        this.#queue.shift();
      }
      if (this.now >= nextReportAt) {
        nextReportAt = this.now + gap();
        // A picture counts as received once whole and drawn: until then all its bytes are on the way.
        const onTheWay = this.#queue.reduce((sum, frame) => sum + frame.bytes, 0);
        const waiting = this.#queue[0] ? this.now - this.#queue[0].at : 0;
        if (this.now >= this.#windowEnd) {
          this.#windowEnd = this.now + 1000;
          this.#consoleBehind = this.#consoleWaited;
          this.#consoleWaited = false;
        }
        const behind = this.path.says ? this.#consoleBehind : undefined;
        this.pacer.backlog(40 + waiting, this.now, onTheWay, behind);
        this.fpsSeen.push(this.pacer.fps);
        this.kbpsSeen.push(this.pacer.status().kbps);
      }
    }
  }
}

describe('VideoPacer, frame by frame', () => {
  it('on a loaded machine whose reports come bunched and late, the budget is cut before any picture', () => {
    const pacer = new VideoPacer(30);
    pacer.budgeted = true;
    const path = new FramePath(pacer, { linkKbps: LINK_KBPS, naturalBytes: 4_000 });
    path.run(3_000);
    path.path.naturalBytes = 25_000; // 6 Mbit/s at 30 fps
    // Reports 20 ms to 700 ms apart, in a fixed order, instead of every 200 ms.
    const gaps = [700, 20, 40, 450, 20, 600, 30, 300, 20, 500];
    let i = 0;
    path.run(20_000, () => gaps[i++ % gaps.length] ?? REPORT_MS);
    const firstBudget = path.kbpsSeen.findIndex((kbps) => kbps !== undefined);
    const firstFpsCut = path.fpsSeen.findIndex((fps) => fps < 30);
    assert.ok(firstBudget >= 0, 'a budget');
    assert.ok(
      firstFpsCut === -1 || firstFpsCut > firstBudget,
      `budget at report ${firstBudget}, frame rate cut at ${firstFpsCut}: ${path.fpsSeen.join(',')}`,
    );
    assert.equal(pacer.fps, 30, `the frame rate in the end: ${path.fpsSeen.join(',')}`);
    const kbps = pacer.status().kbps ?? 0;
    assert.ok(kbps > 0.5 * LINK_KBPS && kbps < LINK_KBPS, `the budget: ${kbps} kbit/s`);
  });

  it('a console that draws only 12 pictures a second and says it is behind gets fewer pictures, and no budget past its word', () => {
    const pacer = new VideoPacer(30);
    pacer.budgeted = true;
    // 20,000-byte pictures at 12 a second: 1.9 Mbit/s, well inside the 4 Mbit/s link.
    const path = new FramePath(pacer, { linkKbps: LINK_KBPS, naturalBytes: 4_000, says: true });
    path.run(3_000);
    path.path.consolePps = 12;
    path.path.naturalBytes = 20_000;
    path.run(20_000);
    assert.ok(pacer.fps <= 15, `the frame rate: ${path.fpsSeen.join(',')}`);
    // The console says so a second late: a budget cut meanwhile is undone at its word.
    const budgeted = path.kbpsSeen.filter((kbps) => kbps !== undefined).length;
    assert.ok(budgeted < 0.1 * path.kbpsSeen.length, `the budgets: ${path.kbpsSeen.join(',')}`);
    assert.equal(pacer.budget, undefined);
  });

  it('the same console that does not say (an older one) has the budget cut first, as before', () => {
    const pacer = new VideoPacer(30);
    pacer.budgeted = true;
    const path = new FramePath(pacer, { linkKbps: LINK_KBPS, naturalBytes: 4_000 });
    path.run(3_000);
    path.path.consolePps = 12;
    path.path.naturalBytes = 20_000;
    path.run(5_000);
    assert.ok(
      path.kbpsSeen.some((kbps) => kbps !== undefined),
      `the budgets: ${path.kbpsSeen.join(',')}`,
    );
  });

  it('on a thin link, a console behind for a while has pictures cut, then the budget is measured on the link alone', () => {
    const pacer = new VideoPacer(30);
    pacer.budgeted = true;
    const path = new FramePath(pacer, { linkKbps: LINK_KBPS, naturalBytes: 4_000, says: true });
    path.run(3_000);
    // 6 Mbit/s into the 4 Mbit/s link, and a console that draws only 12 pictures a second at first.
    path.path.naturalBytes = 25_000;
    path.path.consolePps = 12;
    path.run(4_000);
    assert.ok(pacer.fps < 30, `pictures cut for the console: ${path.fpsSeen.join(',')}`);
    assert.equal(pacer.status().kbps, undefined, `no budget while it is behind: ${path.kbpsSeen.join(',')}`);
    path.path.consolePps = undefined;
    path.run(30_000);
    // The console's 12 pictures of 25,000 bytes (2.4 Mbit/s) would have made a budget of 1.7 Mbit/s.
    const kbps = pacer.status().kbps ?? 0;
    assert.ok(kbps > 0.5 * LINK_KBPS && kbps < LINK_KBPS, `the budget: ${path.kbpsSeen.join(',')}`);
    assert.equal(pacer.fps, 30, `the frame rate back: ${path.fpsSeen.join(',')}`);
  });

  it('when the link recovers from 4 to 8 Mbit/s, the budget is lifted within 30 s', () => {
    const pacer = new VideoPacer(30);
    pacer.budgeted = true;
    const path = new FramePath(pacer, { linkKbps: LINK_KBPS, naturalBytes: 4_000 });
    path.run(3_000);
    path.path.naturalBytes = 25_000; // 6 Mbit/s
    path.run(5_000);
    assert.ok(pacer.status().kbps !== undefined, 'a budget on the thin link');
    path.path.linkKbps = 8_000;
    const before = path.kbpsSeen.length;
    path.run(30_000);
    const lifted = path.kbpsSeen.slice(before).indexOf(undefined);
    assert.ok(lifted >= 0, `still a budget: ${path.kbpsSeen.slice(before).join(',')}`);
    assert.equal(pacer.fps, 30);
  });
});

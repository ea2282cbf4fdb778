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

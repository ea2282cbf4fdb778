import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkBudget, trend } from '../../agent/core/link-budget.ts';

/**
 * Feeds `budget` reports of a link delivering `linkKbps` while `sendKbps` goes in, one frame of
 * `frameBytes` after another; `gaps` are the times between reports, ms (a busy machine bunches them).
 * Answers the bytes still on the way at the end.
 */
function feed(
  budget: LinkBudget,
  clock: { now: number; onTheWay: number },
  options: {
    sendKbps: number;
    linkKbps: number;
    gaps: readonly number[];
    frameBytes?: number;
    queued?: boolean;
  },
): number {
  const frameBytes = options.frameBytes ?? 2_000;
  let owed = 0;
  for (const gap of options.gaps) {
    owed += (options.sendKbps * gap) / 8;
    let sent = 0;
    while (owed >= frameBytes) {
      budget.sent(frameBytes);
      owed -= frameBytes;
      sent += frameBytes;
    }
    clock.onTheWay = Math.max(0, clock.onTheWay + sent - (options.linkKbps * gap) / 8);
    clock.now += gap;
    budget.delivered(clock.onTheWay, clock.now, options.queued ?? clock.onTheWay > 20_000);
  }
  return clock.onTheWay;
}

describe('the trend of the bytes on the way', () => {
  it('is the least-squares slope, in bytes a second, with how many standard errors it stands above zero', () => {
    const line = [0, 200, 400, 600].map((at) => ({ at, onTheWay: 1_000 + 5 * at }));
    const exact = trend(line);
    assert.equal(Math.round(exact.perSecond), 5_000);
    assert.equal(exact.t, Number.POSITIVE_INFINITY);
    const noisy = trend([
      { at: 0, onTheWay: 0 },
      { at: 200, onTheWay: 9_000 },
      { at: 400, onTheWay: 1_000 },
      { at: 600, onTheWay: 8_000 },
      { at: 800, onTheWay: 2_000 },
    ]);
    assert.ok(noisy.t < 1, `noise is not a trend: t = ${noisy.t}`);
  });
});

describe('LinkBudget', () => {
  it('sees bytes pile up on a thin link even when a busy machine bunches and delays the reports', () => {
    const budget = new LinkBudget();
    const clock = { now: 0, onTheWay: 0 };
    // Reports 20 ms to 700 ms apart instead of every 200 ms, as on a loaded CI machine.
    feed(budget, clock, { sendKbps: 6_000, linkKbps: 4_000, gaps: [700, 20, 30, 450, 20, 600, 40, 20] });
    const delivery = budget.delivery();
    assert.ok(delivery?.piledUp, `a pile-up: ${JSON.stringify(delivery)}`);
    assert.ok(Math.abs(delivery.kbps - 4_000) < 400, `the link's rate: ${delivery.kbps} kbit/s`);
    assert.equal(budget.cut('speed'), true);
    assert.ok(Math.abs((budget.kbps ?? 0) - 0.7 * 4_000) < 300, `the budget: ${budget.kbps}`);
  });

  it('a console late once (a step in the bytes on the way, then level) is no pile-up', () => {
    const budget = new LinkBudget();
    const clock = { now: 0, onTheWay: 0 };
    feed(budget, clock, { sendKbps: 2_000, linkKbps: 4_000, gaps: [200, 200, 200, 200], queued: true });
    // One receipt late: 60 KB reads as on the way for one report, then the receipts catch up.
    budget.sent(60_000);
    clock.now += 200;
    budget.delivered(60_000, clock.now, true);
    feed(budget, clock, { sendKbps: 2_000, linkKbps: 4_000, gaps: [200], queued: true });
    clock.onTheWay = 0;
    feed(budget, clock, { sendKbps: 2_000, linkKbps: 4_000, gaps: [200, 200, 200], queued: true });
    assert.equal(budget.delivery()?.piledUp, false);
    assert.equal(budget.cut('speed'), false);
    assert.equal(budget.kbps, undefined);
  });

  it('a queue draining after a cut is no pile-up, so the budget is not cut again', () => {
    const budget = new LinkBudget();
    const clock = { now: 0, onTheWay: 0 };
    feed(budget, clock, { sendKbps: 6_000, linkKbps: 4_000, gaps: [200, 200, 200, 200, 200] });
    assert.equal(budget.cut('speed'), true);
    const cut = budget.kbps;
    feed(budget, clock, { sendKbps: 2_800, linkKbps: 4_000, gaps: [200, 200, 200, 200], queued: true });
    assert.equal(budget.cut('speed'), false);
    assert.equal(budget.kbps, cut);
  });

  it('bytes that pile up while the console says it is behind are not measured, and cut no budget', () => {
    const budget = new LinkBudget();
    const clock = { now: 0, onTheWay: 0 };
    // The console draws 2.4 Mbit/s worth of pictures of the 4.8 sent, and says it is behind.
    for (let i = 0; i < 10; i++) {
      budget.sent(120_000);
      clock.onTheWay += 60_000;
      clock.now += 200;
      budget.delivered(clock.onTheWay, clock.now, true, true);
    }
    assert.equal(budget.delivery(), undefined, 'nothing measured');
    assert.equal(budget.cut('speed'), false);
    assert.equal(budget.kbps, undefined);
    // Once it keeps up, a thin link of 4 Mbit/s is measured from its own reports only.
    clock.onTheWay = 0;
    feed(budget, clock, { sendKbps: 6_000, linkKbps: 4_000, gaps: Array(6).fill(200) });
    assert.ok(Math.abs((budget.delivery()?.kbps ?? 0) - 4_000) < 400, `${budget.delivery()?.kbps} kbit/s`);
    assert.equal(budget.cut('speed'), true);
  });

  it('a cut is undone when the console says it is behind just after, and kept when it says so later', () => {
    const budget = new LinkBudget();
    const clock = { now: 0, onTheWay: 0 };
    feed(budget, clock, { sendKbps: 6_000, linkKbps: 4_000, gaps: Array(6).fill(200) });
    assert.equal(budget.cut('speed'), true);
    clock.now += 1_000;
    budget.delivered(clock.onTheWay, clock.now, true, true);
    assert.equal(budget.kbps, undefined, 'undone');
    assert.equal(budget.linkKbps, undefined);

    const later = new LinkBudget();
    const c = { now: 0, onTheWay: 0 };
    feed(later, c, { sendKbps: 6_000, linkKbps: 4_000, gaps: Array(6).fill(200) });
    assert.equal(later.cut('speed'), true);
    const cut = later.kbps;
    c.now += 5_000;
    later.delivered(c.onTheWay, c.now, true, true);
    assert.equal(later.kbps, cut, 'kept: the link was measured while the console kept up');
  });

  it('a link that delivers less again while bytes still pile up has the budget cut again, never above it was', () => {
    const budget = new LinkBudget();
    const clock = { now: 0, onTheWay: 0 };
    feed(budget, clock, { sendKbps: 4_800, linkKbps: 2_400, gaps: Array(6).fill(200), frameBytes: 10_000 });
    assert.equal(budget.cut('speed'), true);
    const cut = budget.kbps ?? 0;
    feed(budget, clock, { sendKbps: 4_800, linkKbps: 1_200, gaps: Array(20).fill(200), frameBytes: 10_000 });
    assert.ok(budget.delivery()?.piledUp);
    assert.equal(budget.cut('speed'), true);
    const again = budget.kbps ?? 0;
    assert.ok(again < cut && Math.abs(again - 0.7 * 1_200) < 150, `cut from ${cut} to ${again} kbit/s`);
  });

  it('calm deliveries above the rate measured at the cut raise the link rate the budget rises by', () => {
    const budget = new LinkBudget();
    const clock = { now: 0, onTheWay: 0 };
    feed(budget, clock, { sendKbps: 6_000, linkKbps: 4_000, gaps: Array(6).fill(200) });
    budget.cut('speed');
    assert.ok(Math.abs((budget.linkKbps ?? 0) - 4_000) < 400);
    clock.onTheWay = 0;
    feed(budget, clock, { sendKbps: 6_000, linkKbps: 8_000, gaps: Array(12).fill(200), queued: false });
    assert.ok((budget.linkKbps ?? 0) > 5_500, `the link's rate now: ${budget.linkKbps}`);
  });
});

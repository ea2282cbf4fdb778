import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchedulingLag, TICK_MS } from '../../console/app/media/scheduling-lag.ts';

// The console's measure of a machine short of CPU, on a scripted clock: a timer due every TICK_MS
// that runs `lateMs` late, as the page's would when its tasks wait to be scheduled.

/** Runs `seconds` of ticks, each `lateMs` late (the next due TICK_MS after it ran). */
function run(lag: SchedulingLag, from: number, seconds: number, lateMs: number): { end: number } {
  let now = from;
  const end = from + seconds * 1000;
  while (now < end) {
    const due = now + TICK_MS;
    now = due + lateMs;
    lag.ran(due, now);
  }
  return { end: now };
}

describe('scheduling lag (the console starved of CPU)', () => {
  it('ticks on time say nothing, however long', () => {
    const lag = new SchedulingLag();
    run(lag, 0, 20, 2);
    assert.equal(lag.behind, false);
    assert.equal(lag.meanMs, 0, 'a tick within its slack is not late at all');
  });

  it('late ticks count: their mean lateness is measured, and two starved seconds in a row say behind', () => {
    const windows: Array<{ meanMs: number; behind: boolean }> = [];
    const lag = new SchedulingLag((meanMs, behind) => windows.push({ meanMs, behind }));
    run(lag, 0, 1.2, 60);
    assert.equal(windows.length, 1);
    assert.equal(windows[0]?.meanMs, 52, 'each tick 60 ms late, less the 8 ms on-time slack');
    assert.equal(windows[0]?.behind, false, 'one starved second is not enough');
    run(lag, 1_200, 1.2, 60);
    assert.equal(lag.behind, true);
  });

  it('a starved second between on-time ones does not say behind', () => {
    const lag = new SchedulingLag();
    let at = 0;
    for (let i = 0; i < 5; i++) {
      at = run(lag, at, 1.1, 70).end;
      at = run(lag, at, 1.1, 0).end;
      assert.equal(lag.behind, false, `round ${i}`);
    }
  });

  it('one very late tick counts for at most a window (a suspended laptop is not a starved page)', () => {
    const windows: number[] = [];
    const lag = new SchedulingLag((meanMs) => windows.push(meanMs));
    lag.ran(0, 60_000);
    assert.deepEqual(windows, [1000]);
    run(lag, 60_000, 3, 0);
    assert.equal(lag.behind, false);
  });

  it('hysteresis: behind stays through middling seconds and ends only after three fed seconds in a row', () => {
    const lag = new SchedulingLag();
    let at = run(lag, 0, 3, 60).end;
    assert.equal(lag.behind, true);
    // 20 ms late: under the starved mark, over the fed one.
    at = run(lag, at, 5, 28).end;
    assert.equal(lag.behind, true, 'a middling lateness leaves the verdict as it was');
    at = run(lag, at, 2.1, 0).end;
    assert.equal(lag.behind, true, 'two fed seconds are not enough');
    run(lag, at, 1.5, 0);
    assert.equal(lag.behind, false, 'the third fed second ends it');
  });

  it('hysteresis the other way: middling seconds do not make a fed console behind', () => {
    const lag = new SchedulingLag();
    run(lag, 0, 10, 28);
    assert.equal(lag.behind, false);
  });

  it('reset (the page hidden) forgets the verdict and the window under way', () => {
    const lag = new SchedulingLag();
    const at = run(lag, 0, 3, 60).end;
    assert.equal(lag.behind, true);
    lag.reset();
    assert.equal(lag.behind, false);
    // Hidden pages' timers come a second late on purpose; after the reset only fresh ticks count.
    run(lag, at + 5_000, 3, 0);
    assert.equal(lag.behind, false);
  });
});

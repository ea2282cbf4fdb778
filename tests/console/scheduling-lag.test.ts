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

  it('late ticks count: their mean lateness is measured, and a starved second says behind', () => {
    const windows: Array<{ meanMs: number; behind: boolean }> = [];
    const lag = new SchedulingLag((meanMs, behind) => windows.push({ meanMs, behind }));
    run(lag, 0, 0.9, 60);
    assert.equal(lag.behind, false, 'not before the window is whole');
    run(lag, 900, 0.3, 60);
    assert.equal(windows.length, 1);
    assert.equal(windows[0]?.meanMs, 52, 'each tick 60 ms late, less the 8 ms on-time slack');
    assert.equal(windows[0]?.behind, true);
  });

  it('ticks a little late, within the slack or under the starved mark, never say behind', () => {
    const lag = new SchedulingLag();
    run(lag, 0, 10, 8);
    assert.equal(lag.meanMs, 0);
    run(lag, 10_000, 10, 36);
    assert.equal(lag.meanMs, 28);
    assert.equal(lag.behind, false);
  });

  it("lateness the page's own long tasks explain is not starvation; the rest is", () => {
    const lag = new SchedulingLag();
    // 20 ticks a second, each 60 ms late: 1,040 ms late in all past the slack.
    let at = 0;
    for (let i = 0; i < 3; i++) {
      lag.longTask(1_200);
      at = run(lag, at, 1.05, 60).end;
    }
    assert.equal(lag.meanMs, 0);
    assert.equal(lag.behind, false, 'a page busy with its own work is the video path chooser’s to judge');
    lag.longTask(100);
    run(lag, at, 1.05, 60);
    assert.ok(lag.meanMs > 30, `${lag.meanMs}`);
    assert.equal(lag.behind, true, 'lateness beyond its own tasks: the page waited for the CPU');
  });

  it('a tick a whole window late is not counted (a suspended laptop is not a starved page)', () => {
    const windows: number[] = [];
    const lag = new SchedulingLag((meanMs) => windows.push(meanMs));
    run(lag, 0, 0.5, 0);
    lag.ran(550, 60_000);
    run(lag, 60_000, 3, 0);
    assert.equal(lag.behind, false);
    assert.deepEqual(windows, [0, 0, 0], 'the window under way started afresh');
  });

  it('hysteresis: behind stays through middling seconds and ends only after three fed seconds in a row', () => {
    const lag = new SchedulingLag();
    let at = run(lag, 0, 1.1, 60).end;
    assert.equal(lag.behind, true);
    // 20 ms late: under the starved mark, over the fed one.
    at = run(lag, at, 5, 28).end;
    assert.equal(lag.behind, true, 'a middling lateness leaves the verdict as it was');
    at = run(lag, at, 2.1, 0).end;
    assert.equal(lag.behind, true, 'two fed seconds are not enough');
    run(lag, at, 1.5, 0);
    assert.equal(lag.behind, false, 'the third fed second ends it');
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

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TaskQueue } from '../../control-plane/relay/spread.ts';

describe('TaskQueue (the relay session-end writes)', () => {
  it('runs at most its limit at once, in order', async () => {
    const queue = new TaskQueue(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        queue.run(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, 1));
          order.push(i);
          running--;
        }),
      ),
    );
    assert.equal(most, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('lets the event loop turn between tasks that answer at once (as libSQL on a file does), so a mass disconnect does not hold the server in one stretch', async () => {
    const queue = new TaskQueue(4);
    const finished: number[] = [];
    let finishedWhenTheLoopTurned: number | undefined;
    setImmediate(() => {
      finishedWhenTheLoopTurned = finished.length;
    });
    // Tasks that resolve without waiting on anything: a synchronous database write behind a promise.
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        queue.run(async () => {
          finished.push(i);
        }),
      ),
    );
    assert.equal(finished.length, 200);
    assert.ok(
      finishedWhenTheLoopTurned !== undefined && finishedWhenTheLoopTurned < 200,
      `the event loop turned only after ${finishedWhenTheLoopTurned} of 200 tasks`,
    );
  });
});

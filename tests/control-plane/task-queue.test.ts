import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TaskQueue } from '../../control-plane/relay/spread.ts';

/** Counts the turns of the event loop (one a check phase) until stopped. */
function turnCounter() {
  let turn = 0;
  let stopped = false;
  const next = () => {
    if (stopped) return;
    turn++;
    setImmediate(next);
  };
  setImmediate(next);
  return {
    get turn() {
      return turn;
    },
    stop() {
      stopped = true;
    },
  };
}

describe('TaskQueue (the relay session-end and device offline writes)', () => {
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

  it('starts tasks that answer at once (as libSQL on a file does) one turn of the event loop apart, so a mass disconnect does not hold the server in one stretch', async () => {
    const queue = new TaskQueue(4);
    const turns = turnCounter();
    const started: number[] = [];
    const runs: Promise<void>[] = [];
    // 200 sockets closing in one poll phase: each close callback queues its write, and (the write
    // answering at once) its microtasks settle before the next callback.
    for (let i = 0; i < 200; i++) {
      runs.push(
        queue.run(async () => {
          started.push(turns.turn);
        }),
      );
      for (let tick = 0; tick < 10; tick++) await Promise.resolve();
    }
    const queuedIn = turns.turn;
    await Promise.all(runs);
    turns.stop();
    assert.equal(started.length, 200);
    assert.ok(started[0]! > queuedIn, 'the first write ran in the turn that queued it');
    assert.equal(new Set(started).size, 200, 'two writes ran in one turn of the event loop');
  });
});

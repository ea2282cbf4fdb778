import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GuessThrottle } from '../../control-plane/throttle/guess-throttle.ts';

/** A throttle on a clock the test moves by hand. */
function throttleAt(start = 1_000_000) {
  const clock = { now: start };
  const throttle = new GuessThrottle({
    freeFailures: 2,
    baseDelayMs: 1_000,
    maxDelayMs: 8_000,
    now: () => clock.now,
  });
  return { throttle, clock };
}

describe('guess throttle', () => {
  it('the free failures pass, then each further failure doubles the delay up to the cap', () => {
    const { throttle, clock } = throttleAt();
    const delays: number[] = [];
    for (let failure = 1; failure <= 7; failure++) {
      throttle.fail('k');
      const verdict = throttle.check('k');
      delays.push(verdict.allowed ? 0 : verdict.retryAfterMs);
      clock.now += 60_000;
    }
    assert.deepEqual(delays, [0, 0, 1_000, 2_000, 4_000, 8_000, 8_000]);
  });

  it('restartDelay makes the delay run from the answer, so a slow check does not use it up', () => {
    const { throttle, clock } = throttleAt();
    for (let failure = 0; failure < 3; failure++) throttle.fail('k');
    clock.now += 900; // a slow password hash
    throttle.restartDelay('k');
    const verdict = throttle.check('k');
    assert.equal(verdict.allowed, false);
    assert.equal(verdict.allowed ? 0 : verdict.retryAfterMs, 1_000);
  });

  it('restartDelay neither blocks a key within its free failures nor creates unknown keys', () => {
    const { throttle } = throttleAt();
    throttle.fail('k');
    throttle.restartDelay('k');
    throttle.restartDelay('unknown');
    assert.deepEqual(throttle.check('k'), { allowed: true });
    assert.deepEqual(throttle.check('unknown'), { allowed: true });
  });

  it('a success clears the key', () => {
    const { throttle } = throttleAt();
    for (let failure = 0; failure < 5; failure++) throttle.fail('k');
    throttle.succeed('k');
    assert.deepEqual(throttle.check('k'), { allowed: true });
  });
});

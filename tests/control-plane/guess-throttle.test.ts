import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddress, throttleKey, trustedProxies } from '../../control-plane/http/client-address.ts';
import { GuessBudget } from '../../control-plane/throttle/guess-budget.ts';
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

  it('forgive takes back one failure counted in advance and lifts the delay it caused', () => {
    const { throttle } = throttleAt();
    for (let failure = 0; failure < 3; failure++) throttle.fail('k');
    assert.equal(throttle.check('k').allowed, false);
    throttle.forgive('k');
    assert.deepEqual(throttle.check('k'), { allowed: true });
    throttle.fail('k');
    assert.equal(throttle.check('k').allowed, false, 'the two earlier failures still count');
    for (let i = 0; i < 3; i++) throttle.forgive('k');
    assert.equal(throttle.hasFailed('k'), false);
  });

  it('a success clears the key', () => {
    const { throttle } = throttleAt();
    for (let failure = 0; failure < 5; failure++) throttle.fail('k');
    throttle.succeed('k');
    assert.deepEqual(throttle.check('k'), { allowed: true });
  });
});

describe('guess budget', () => {
  it('spends its capacity, then lets one guess through per refill period however long the flood', () => {
    const clock = { now: 0 };
    const budget = new GuessBudget({ capacity: 3, refillEveryMs: 1_000, now: () => clock.now });
    const allowed = () => budget.take().allowed;
    assert.deepEqual([allowed(), allowed(), allowed(), allowed()], [true, true, true, false]);
    let through = 0;
    for (let ms = 0; ms < 10_000; ms += 100) {
      clock.now += 100;
      if (allowed()) through++;
    }
    assert.equal(through, 10, 'ten seconds of flood: ten guesses');
    const refused = budget.take();
    assert.equal(refused.allowed, false);
    assert.ok(!refused.allowed && refused.retryAfterMs > 0 && refused.retryAfterMs <= 1_000);
  });

  it('a right guess gives its place back, up to the capacity', () => {
    const budget = new GuessBudget({ capacity: 1, refillEveryMs: 60_000, now: () => 0 });
    assert.equal(budget.take().allowed, true);
    budget.giveBack();
    budget.giveBack();
    assert.deepEqual([budget.take().allowed, budget.take().allowed], [true, false]);
  });
});

describe('client address', () => {
  const { matcher: trusted } = trustedProxies(['10.9.0.0/16', '2001:db8:ffff::/48']);

  it('reads X-Forwarded-For only from a trusted proxy, taking the rightmost hop that is not one', () => {
    assert.equal(clientAddress('10.9.0.1', '1.1.1.1, 203.0.113.9, 10.9.3.3', trusted), '203.0.113.9');
    assert.equal(clientAddress('2001:db8:ffff::5', '2001:db8:1::7', trusted), '2001:db8:1::7');
    assert.equal(clientAddress('192.0.2.1', '203.0.113.9', trusted), '192.0.2.1');
    assert.equal(clientAddress('10.9.0.1', undefined, trusted), '10.9.0.1');
    // A hop that is not an address: the header is not to be believed.
    assert.equal(clientAddress('10.9.0.1', '203.0.113.9, bogus', trusted), '10.9.0.1');
    // Every hop is ours: the leftmost is as far back as we know.
    assert.equal(clientAddress('10.9.0.1', '10.9.0.2, 10.9.0.3', trusted), '10.9.0.2');
    assert.equal(clientAddress('::ffff:192.0.2.1', undefined, trusted), '192.0.2.1');
    assert.equal(clientAddress('::ffff:10.9.0.1', '203.0.113.9', trusted), '203.0.113.9');
    assert.equal(clientAddress(undefined, '203.0.113.9', trusted), 'local');
  });

  it('keys IPv6 clients by their /64 and IPv4 clients by their address', () => {
    assert.equal(throttleKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(throttleKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(throttleKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(throttleKey('::1'), '0:0:0:0::/64');
    assert.equal(throttleKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(throttleKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
    assert.equal(throttleKey('192.0.2.1'), '192.0.2.1');
    assert.equal(throttleKey('local'), 'local');
  });
});

import { ApiError } from '../http/problem.ts';

/**
 * The refusal every throttle answers with: 429 TOO_FREQUENT, a `Retry-After` in whole seconds, and a
 * detail that names the wait.
 *
 * @example
 * if (!verdict.allowed) throw tooFrequent(verdict.retryAfterMs, (s) => `Too many wrong codes. Wait ${s} s.`);
 */
export function tooFrequent(retryAfterMs: number, detail: (seconds: number) => string): ApiError {
  const seconds = Math.ceil(retryAfterMs / 1000);
  return new ApiError(429, 'TOO_FREQUENT', detail(seconds), { headers: { 'Retry-After': String(seconds) } });
}

/** The part of a throttle `spendOrRefuse` uses. */
interface Throttle {
  check(key: string): { allowed: true } | { allowed: false; retryAfterMs: number };
  fail(key: string): void;
}

/**
 * Counts one attempt against `throttle` for `key`, or throws {@link tooFrequent} when the key is
 * being slowed down. For throttles where every attempt counts (registrations, enrolments), not only
 * failures; the throttle delays only past its free allowance.
 */
export function spendOrRefuse(throttle: Throttle, key: string, detail: (seconds: number) => string): void {
  const verdict = throttle.check(key);
  if (!verdict.allowed) throw tooFrequent(verdict.retryAfterMs, detail);
  throttle.fail(key);
}

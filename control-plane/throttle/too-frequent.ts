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

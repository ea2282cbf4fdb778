import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';

/** What each refused code means, for the operator who typed it and for the end user's agent. */
export const REDEEM_FAILURES = {
  CODE_INVALID: {
    status: 404,
    detail: 'No session has this code. Check the digits with the user and try again.',
    agentDetail: 'No session has this code. Check the digits with your operator and try again.',
  },
  CODE_EXPIRED: {
    status: 410,
    detail: 'This code has expired. Ask the user to restart the agent for a new code.',
    agentDetail: 'This code has expired. Ask your operator for a new one.',
  },
  CODE_USED: {
    status: 409,
    detail: 'This code was already used. Ask the user for the code shown now.',
    agentDetail: 'This code was already used. Ask your operator for a new one.',
  },
  SESSION_ENDED: {
    status: 410,
    detail: 'The session of this code has ended. Ask the user to start the agent again.',
    agentDetail: 'The session of this code has ended. Ask your operator to start a new one.',
  },
} as const satisfies Record<string, { status: ContentfulStatusCode; detail: string; agentDetail: string }>;

/** Refuses a code guess while the address, or everyone, is in a growing delay. */
export function throttleCodeGuess(services: Services, address: string): void {
  for (const [throttle, key] of [
    [services.codeThrottle, `addr:${address}`],
    [services.globalCodeThrottle, 'global'],
  ] as const) {
    const verdict = throttle.check(key);
    if (!verdict.allowed) {
      const seconds = Math.ceil(verdict.retryAfterMs / 1000);
      throw new ApiError(429, 'TOO_FREQUENT', `Too many wrong codes. Wait ${seconds} s and try again.`, {
        headers: { 'Retry-After': String(seconds) },
      });
    }
  }
}

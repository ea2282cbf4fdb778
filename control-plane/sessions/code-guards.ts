import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { throttleKey } from '../http/client-address.ts';
import type { Services } from '../services.ts';
import { tooFrequent } from '../throttle/too-frequent.ts';

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

/** Who guesses a code: a signed-in operator (or their API token), or an agent nobody vouches for. */
export type CodeGuesser = { operatorId: string } | { address: string };

/** One admitted guess: say whether it was right once it has been checked. */
export interface CodeGuess {
  settle(right: boolean): void;
}

/**
 * Admits one code guess, counted before the code is looked up (so guesses sent at once are all
 * counted), or refuses it with 429 TOO_FREQUENT. An operator's guesses count against that operator
 * alone: no amount of anonymous traffic slows a signed-in operator. An anonymous guess counts
 * against its address (its /64 for IPv6) and against the budget every anonymous guess shares, which
 * bounds guessing however many addresses an attacker has (README, "Guess limits").
 *
 * @example
 * const guess = admitCodeGuess(services, { address });
 * const result = await services.store.redeem(code, …);
 * guess.settle(result.ok);
 */
export function admitCodeGuess(services: Services, guesser: CodeGuesser): CodeGuess {
  const counted = (settle: (right: boolean) => void): CodeGuess => ({
    settle: (right) => {
      services.metrics.codeRedemptions.inc({ result: right ? 'redeemed' : 'refused' });
      settle(right);
    },
  });
  if ('operatorId' in guesser) {
    const throttle = services.operatorCodeThrottle;
    const key = guesser.operatorId;
    const verdict = throttle.check(key);
    if (!verdict.allowed)
      throw tooFrequent(verdict.retryAfterMs, (s) => `Too many wrong codes. Wait ${s} s and try again.`);
    throttle.fail(key);
    // A right code is not a failure, but it does not wipe the wrong ones either: an operator who
    // can make codes (by registering an agent) could otherwise reset their count at will.
    return counted((right) => (right ? throttle.forgive(key) : throttle.restartDelay(key)));
  }
  const throttle = services.codeThrottle;
  const key = throttleKey(guesser.address);
  const verdict = throttle.check(key);
  if (!verdict.allowed)
    throw tooFrequent(verdict.retryAfterMs, (s) => `Too many wrong codes. Wait ${s} s and try again.`);
  const shared = services.anonymousCodeBudget.take();
  if (!shared.allowed) {
    throw tooFrequent(
      shared.retryAfterMs,
      (s) => `Too many wrong codes are being tried on this server; joining by code is paused for ${s} s.`,
    );
  }
  throttle.fail(key);
  return counted((right) => {
    if (!right) return throttle.restartDelay(key);
    throttle.forgive(key);
    services.anonymousCodeBudget.giveBack();
  });
}

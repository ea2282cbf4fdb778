import type { GuessBudgetOptions } from './guess-budget.ts';
import type { GuessThrottleOptions } from './guess-throttle.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * Wrong connection codes from every anonymous agent together (`POST /api/agent/join`). With 10⁹
 * codes and 1,000 live at once, each guess hits one with probability 10⁻⁶; for less than one chance
 * in a million per 15-minute code lifetime the sustained rate must stay under one guess per 15
 * minutes. One guess back every 16 minutes: 15/16 × 10⁻⁶ ≈ 9.4 × 10⁻⁷. The 250 held in reserve
 * absorb honest typing mistakes; spent, they come back at the same rate (README, "Guess limits").
 */
export const ANONYMOUS_CODE_BUDGET: Omit<GuessBudgetOptions, 'now'> = {
  capacity: 250,
  refillEveryMs: 16 * MINUTE_MS,
};

/**
 * Wrong passwords for one account from clients that are neither a device it logged in from nor an
 * address it logged in from: at most one guess per 15 minutes once past the free ones (96 a day),
 * remembered for a day so that pausing does not earn fresh free guesses.
 */
export const ACCOUNT_LOGIN_LIMITS: Partial<GuessThrottleOptions> = {
  freeFailures: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * MINUTE_MS,
  windowMs: 24 * HOUR_MS,
};

/**
 * Wrong authenticator codes for one account, whoever sends them: past three, 30 s doubling to an
 * hour (24 guesses a day, each right with probability 3 × 10⁻⁶: the code of the step before, now
 * and after), remembered for a day and cleared only by a right authenticator code.
 */
export const TOTP_LIMITS: Partial<GuessThrottleOptions> = {
  freeFailures: 3,
  baseDelayMs: 30_000,
  maxDelayMs: HOUR_MS,
  windowMs: 24 * HOUR_MS,
};

/**
 * Wrong passwords for one invitation, whoever sends them: three free (typing mistakes), then 2 s
 * doubling to 15 minutes, remembered for a day. With the invitation's own expiry this leaves a
 * handful of guesses an hour against a password of at least eight characters.
 */
export const INVITATION_PASSWORD_LIMITS: Partial<GuessThrottleOptions> = {
  freeFailures: 3,
  baseDelayMs: 2_000,
  maxDelayMs: 15 * MINUTE_MS,
  windowMs: 24 * HOUR_MS,
};

import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { AppEnv, OperatorRow } from '../http/app-env.ts';
import { throttleKey } from '../http/client-address.ts';
import type { Services } from '../services.ts';
import type { GuessThrottle } from '../throttle/guess-throttle.ts';
import { tooFrequent } from '../throttle/too-frequent.ts';

/** The cookie that marks a browser an operator logged in from before. */
export const DEVICE_COOKIE = 'lifeline_device';
/** How long a browser stays known after its last successful login, in milliseconds. */
const DEVICE_TTL_MS = 180 * 24 * 60 * 60_000;
/** How far back a successful login makes its address a known one for that account, in milliseconds. */
const KNOWN_ADDRESS_MS = 30 * 24 * 60 * 60_000;
/** Recent logins looked at to recognise a known address. */
const KNOWN_ADDRESS_LOGINS = 50;

/** One admitted password attempt, already counted as a failure: clear it when the password was right. */
export interface LoginGuess {
  /** The password was wrong: the delays run from now, not from before the slow hash. */
  failed(): void;
  /** The password was right: its counters start again. */
  succeeded(): void;
}

/** The id of this browser's device cookie when it was issued to this operator. */
async function knownDevice(services: Services, c: Context<AppEnv>, operator: OperatorRow | undefined) {
  const cookie = getCookie(c, DEVICE_COOKIE);
  if (!operator || !cookie) return undefined;
  const claims = await services.tokens.verify('loginDevice', cookie).catch(() => undefined);
  return claims?.sub === operator.id ? claims.jti : undefined;
}

/** Whether the operator logged in successfully from this address (its /64 for IPv6) lately. */
async function knownAddress(services: Services, operatorId: string, address: string): Promise<boolean> {
  const addresses = await services.accounts.logins.recentAddresses(
    operatorId,
    new Date(Date.now() - KNOWN_ADDRESS_MS),
    KNOWN_ADDRESS_LOGINS,
  );
  const key = throttleKey(address);
  return addresses.some((known) => known !== null && throttleKey(known) === key);
}

/**
 * Admits one password attempt, or refuses it with 429 TOO_FREQUENT, and counts it as a failure
 * before the password is hashed so guesses sent at once are all counted. The limits:
 * - a browser holding this operator's device cookie: its own growing delay, nothing else, so no one
 *   without that cookie can slow it;
 * - any other client: growing delays per address, per (account, address), and per account — the
 *   last one skipped for an address the operator logged in from in the last 30 days that has not
 *   failed since, so the rightful user at their usual address still gets in.
 * Every delay is cleared only by the right password through the same limits (README, "Guess limits").
 */
export async function admitLogin(
  services: Services,
  c: Context<AppEnv>,
  username: string,
  operator: OperatorRow | undefined,
): Promise<LoginGuess> {
  const address = throttleKey(c.get('address'));
  const device = await knownDevice(services, c, operator);
  const user = username.toLowerCase();
  const pairKey = `pair:${user}:${address}`;
  // Looked up for unknown usernames too, so the answer takes as long whether or not the user exists.
  const usualAddress =
    !device &&
    (await knownAddress(services, operator?.id ?? '', address)) &&
    !services.loginThrottle.hasFailed(pairKey);
  const limits: { throttle: GuessThrottle; key: string; checked: boolean }[] = device
    ? [{ throttle: services.loginThrottle, key: `device:${device}`, checked: true }]
    : [
        { throttle: services.loginThrottle, key: `addr:${address}`, checked: true },
        { throttle: services.loginThrottle, key: pairKey, checked: true },
        { throttle: services.accountLoginThrottle, key: user, checked: !usualAddress },
      ];
  // No await from here until every limit is counted: concurrent attempts see each other's failures.
  for (const { throttle, key, checked } of limits) {
    const verdict = checked ? throttle.check(key) : { allowed: true as const };
    if (!verdict.allowed)
      throw tooFrequent(verdict.retryAfterMs, (s) => `Too many failed logins. Try again in ${s} s.`);
  }
  for (const { throttle, key } of limits) throttle.fail(key);
  return {
    failed: () => {
      for (const { throttle, key } of limits) throttle.restartDelay(key);
    },
    succeeded: () => {
      for (const { throttle, key } of limits) throttle.succeed(key);
    },
  };
}

/** Marks this browser as one the operator logged in from (a new cookie at each login). */
export async function rememberDevice(services: Services, c: Context<AppEnv>, operatorId: string) {
  const token = await services.tokens.sign('loginDevice', { sub: operatorId }, DEVICE_TTL_MS);
  setCookie(c, DEVICE_COOKIE, token, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: services.config.secureCookies,
    path: '/api/auth',
    maxAge: Math.floor(DEVICE_TTL_MS / 1000),
  });
}

/**
 * Admits one authenticator code for an operator whose password was right, or refuses it with 429
 * TOO_FREQUENT. Counted per account whoever sends it; a right password does not clear it, only a
 * right authenticator code does.
 */
export function admitTotp(services: Services, operatorId: string): LoginGuess {
  const verdict = services.totpThrottle.check(operatorId);
  if (!verdict.allowed) {
    throw tooFrequent(
      verdict.retryAfterMs,
      (s) => `Too many wrong authenticator codes. Try again in ${s} s.`,
    );
  }
  services.totpThrottle.fail(operatorId);
  return {
    failed: () => services.totpThrottle.restartDelay(operatorId),
    succeeded: () => services.totpThrottle.succeed(operatorId),
  };
}

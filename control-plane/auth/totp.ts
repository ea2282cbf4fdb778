import { Secret, TOTP } from 'otpauth';

/** Codes one step either side of now are accepted, for clocks a little apart. */
const WINDOW_STEPS = 1;

function totpFor(secret: string, label = 'operator'): TOTP {
  return new TOTP({
    issuer: 'Lifeline',
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secret: Secret.fromBase32(secret),
  });
}

/** A new random TOTP secret (base32) and its `otpauth://` URI for an authenticator app. */
export function newTotpSecret(label: string): { secret: string; uri: string } {
  const secret = new Secret({ size: 20 }).base32;
  return { secret, uri: totpFor(secret, label).toString() };
}

/** Length of one TOTP step, in seconds. */
const PERIOD_S = 30;

/**
 * Checks a 6-digit code against the secret and returns the time step it belongs to, or undefined.
 * Callers refuse a step at or before the last one accepted, so a code cannot be replayed.
 */
export function verifyTotp(secret: string, code: string, now = Date.now()): number | undefined {
  const delta = totpFor(secret).validate({
    token: code.replace(/\s/g, ''),
    window: WINDOW_STEPS,
    timestamp: now,
  });
  return delta === null ? undefined : Math.floor(now / 1000 / PERIOD_S) + delta;
}

/** The current code, for tests and scripts that hold the secret. */
export function currentTotp(secret: string, timestamp = Date.now()): string {
  return totpFor(secret).generate({ timestamp });
}

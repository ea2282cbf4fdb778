import { createHash, randomBytes } from 'node:crypto';

/** Prefix that makes Lifeline tokens recognisable to secret scanners. */
export const API_TOKEN_PREFIX = 'llt_';

/** A new API token: 32 random bytes behind the prefix. */
export function generateApiToken(): string {
  return API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Tokens are high-entropy, so a plain SHA-256 is enough to store them without keeping them. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

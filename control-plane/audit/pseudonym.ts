import { createHmac } from 'node:crypto';

/** Hex characters of a pseudonym: 64 bits, plenty to tell attempts apart, too few to be a fingerprint. */
const PSEUDONYM_HEX_CHARS = 16;

/** Turns text that must not be stored into a short keyed hash that can be stored instead. */
export type Pseudonymizer = (text: string) => string;

/**
 * Pseudonyms for text that may hold a secret, such as a username that matches no account (often a
 * password typed into the wrong field). The same text always gets the same pseudonym, so repeated
 * attempts can be correlated in the audit log; without the key (a server secret) it cannot be tested
 * against guesses.
 * @example
 * const pseudonym = createPseudonymizer(master.derive('audit/pseudonym'));
 * pseudonym('hunter2') // 'e3b0c44298fc1c14'
 */
export function createPseudonymizer(key: Buffer): Pseudonymizer {
  return (text) => createHmac('sha256', key).update(text).digest('hex').slice(0, PSEUDONYM_HEX_CHARS);
}

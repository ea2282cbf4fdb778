/** The shortest password the control plane accepts. */
export const MIN_PASSWORD_LENGTH = 12;

/** Letters and digits without the look-alikes (0/O, 1/l/I), for passwords read out or typed. */
const ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A random password of `length` characters, about 5.8 bits each. */
export function generatePassword(length = 20): string {
  const limit = 256 - (256 % ALPHABET.length);
  let out = '';
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      // Bytes past the last whole multiple of the alphabet would favour its first letters.
      if (byte < limit && out.length < length) out += ALPHABET[byte % ALPHABET.length];
    }
  }
  return out;
}

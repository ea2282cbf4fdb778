/** Digits in a connection code: 10^9 possibilities, read aloud as three groups of three. */
export const CONNECTION_CODE_DIGITS = 9;

/**
 * Groups a code for reading aloud.
 * @example formatConnectionCode('123456789') // '123 456 789'
 */
export function formatConnectionCode(code: string): string {
  return code.replace(/(\d{3})(?=\d)/g, '$1 ');
}

/**
 * Turns what a person typed into a bare code, or `undefined` when it cannot be one.
 * Spaces, dashes and dots between digits are allowed, as people type them.
 * @example normalizeConnectionCode('123-456 789') // '123456789'
 */
export function normalizeConnectionCode(input: string): string | undefined {
  const bare = input.replace(/[\s.-]/g, '');
  return new RegExp(`^\\d{${CONNECTION_CODE_DIGITS}}$`).test(bare) ? bare : undefined;
}

/**
 * Text from the other side (operator names, chat, command lines, file names) made safe to print on
 * the end user's terminal: control characters and escape sequences could otherwise move the cursor,
 * rewrite earlier lines or hide text, and bidirectional overrides could make a path read backwards.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** One line: every control character, line breaks included, becomes visible. */
export function printableLine(text: string): string {
  return text.replace(/\r?\n/g, ' ⏎ ').replace(/\t/g, ' ').replace(CONTROL, '�');
}

/** Several lines: line breaks are kept, every other control character becomes visible. */
export function printableLines(text: string): string[] {
  return text.split(/\r?\n/).map((line) => line.replace(/\t/g, '    ').replace(CONTROL, '�'));
}

/**
 * Text a device reports about itself (host name, user, OS, agent name) is whatever the device
 * says: the server makes it inert where it comes in, and the console shows it marked as reported
 * by the device. Inert means no character can move the cursor, recolour a terminal, reorder the
 * text around it or hide part of it.
 */

/** What stands in for a character that was taken out, so a tampered name looks tampered. */
const REPLACEMENT = '\ufffd';

/**
 * C0 controls and DEL, C1 controls, the Arabic letter mark, left-to-right and right-to-left marks,
 * the line and paragraph separators, bidirectional embeddings and overrides (U+202A–U+202E) and
 * isolates (U+2066–U+2069).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** A surrogate without its other half: not a character, and some renderers choke on it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * `value` made inert: every control, bidirectional and lone-surrogate character replaced with
 * U+FFFD, and at most `maxChars` characters (code points), the last of them `…` when cut.
 * @example inertDeviceText('desk\u202Egnp.exe', 64) // 'desk\ufffdgnp.exe'
 */
export function inertDeviceText(value: string, maxChars: number): string {
  const cleaned = value.replace(LONE_SURROGATE, REPLACEMENT).replace(UNSAFE, REPLACEMENT);
  const characters = Array.from(cleaned);
  if (characters.length <= maxChars) return cleaned;
  return `${characters.slice(0, Math.max(0, maxChars - 1)).join('')}…`;
}

/** The longest each device-reported field is kept, in characters. */
export const DEVICE_TEXT_MAX_CHARS = {
  name: 100,
  version: 50,
  hostname: 100,
  os: 100,
  user: 100,
} as const;

type DeviceTextField = keyof typeof DEVICE_TEXT_MAX_CHARS;

/**
 * A device's description of itself with every text field made inert (`inertDeviceText`); other
 * fields are kept as they are.
 */
export function inertDeviceInfo<T extends { [K in DeviceTextField]?: string | undefined }>(info: T): T {
  const result = { ...info };
  for (const field of Object.keys(DEVICE_TEXT_MAX_CHARS) as DeviceTextField[]) {
    const value = info[field];
    if (typeof value === 'string') {
      (result as Record<DeviceTextField, string>)[field] = inertDeviceText(
        value,
        DEVICE_TEXT_MAX_CHARS[field],
      );
    }
  }
  return result;
}

/**
 * A robotjs key for a `KeyboardEvent.code`, and a second choice for where robotjs lacks the first.
 */
export interface RobotKey {
  /** The robotjs key name passed to `keyToggle`. */
  key: string;
  /**
   * Tried when robotjs refuses `key` on this OS: robotjs has no numpad keys on Linux, so Numpad7
   * falls back to the plain digit 7.
   */
  fallback?: string;
}

/**
 * `KeyboardEvent.code` names a physical key by its US-layout position; robotjs names single-character
 * keys by the character. The characters below are what those positions type on a US layout, so on a
 * remote machine with another layout a key types what the remote layout puts on the US character's
 * key, not what the operator's keycap shows. robotjs offers no scan codes to do better.
 */
const CHARACTER_KEYS: Record<string, string> = {
  Minus: '-',
  Equal: '=',
  BracketLeft: '[',
  BracketRight: ']',
  Backslash: '\\',
  Semicolon: ';',
  Quote: "'",
  Backquote: '`',
  Comma: ',',
  Period: '.',
  Slash: '/',
};

const NAMED_KEYS: Record<string, RobotKey> = {
  Enter: { key: 'enter' },
  NumpadEnter: { key: 'enter' },
  Escape: { key: 'escape' },
  Backspace: { key: 'backspace' },
  Tab: { key: 'tab' },
  Space: { key: 'space' },
  ArrowUp: { key: 'up' },
  ArrowDown: { key: 'down' },
  ArrowLeft: { key: 'left' },
  ArrowRight: { key: 'right' },
  Home: { key: 'home' },
  End: { key: 'end' },
  PageUp: { key: 'pageup' },
  PageDown: { key: 'pagedown' },
  Insert: { key: 'insert' },
  Delete: { key: 'delete' },
  CapsLock: { key: 'capslock' },
  PrintScreen: { key: 'printscreen' },
  ShiftLeft: { key: 'shift' },
  ShiftRight: { key: 'right_shift' },
  ControlLeft: { key: 'control' },
  ControlRight: { key: 'right_control' },
  AltLeft: { key: 'alt' },
  // robotjs's right_alt is Alt_R on X11, which AltGr layouts do not have; plain Alt works everywhere
  // (AltGr characters are then out of reach, as robotjs cannot press ISO_Level3_Shift on its own).
  AltRight: { key: 'alt' },
  // robotjs has a single "command" key: the Windows key, Super_L or Command.
  MetaLeft: { key: 'command' },
  MetaRight: { key: 'command' },
  // Older Firefox reports the Windows/Command keys as OSLeft/OSRight.
  OSLeft: { key: 'command' },
  OSRight: { key: 'command' },
  NumpadDecimal: { key: 'numpad_.', fallback: '.' },
  NumpadAdd: { key: 'numpad_+', fallback: '+' },
  NumpadSubtract: { key: 'numpad_-', fallback: '-' },
  NumpadMultiply: { key: 'numpad_*', fallback: '*' },
  NumpadDivide: { key: 'numpad_/', fallback: '/' },
};

/**
 * The robotjs key for a `KeyboardEvent.code`, or undefined for a code that has no robotjs key
 * (`IntlBackslash`, media keys, F13 and above, …).
 *
 * @example
 * robotKeyFor('KeyA'); // { key: 'a' }
 * robotKeyFor('Numpad7'); // { key: 'numpad_7', fallback: '7' }
 */
export function robotKeyFor(code: string): RobotKey | undefined {
  const named = Object.hasOwn(NAMED_KEYS, code) ? NAMED_KEYS[code] : undefined;
  if (named) return named;
  if (Object.hasOwn(CHARACTER_KEYS, code)) {
    const character = CHARACTER_KEYS[code];
    return character === undefined ? undefined : { key: character };
  }
  let match = /^Key([A-Z])$/.exec(code);
  if (match?.[1]) return { key: match[1].toLowerCase() };
  match = /^Digit([0-9])$/.exec(code);
  if (match?.[1]) return { key: match[1] };
  match = /^Numpad([0-9])$/.exec(code);
  if (match?.[1]) return { key: `numpad_${match[1]}`, fallback: match[1] };
  // F13–F24 exist in robotjs but not on common X keymaps, where pressing them would crash Xlib.
  match = /^F([1-9]|1[0-2])$/.exec(code);
  if (match?.[1]) return { key: `f${match[1]}` };
  return undefined;
}

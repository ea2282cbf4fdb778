import { spawnSync } from 'node:child_process';

/** How long xmodmap may take to print the keymap, in ms; it answers in a few ms on a live server. */
const XMODMAP_TIMEOUT_MS = 2000;

/** Keysym names (as XKeysymToString spells them) that robotjs sends for its key names on X11. */
const NAMED_KEYSYMS: Record<string, string> = {
  enter: 'Return',
  escape: 'Escape',
  backspace: 'BackSpace',
  tab: 'Tab',
  space: 'space',
  up: 'Up',
  down: 'Down',
  left: 'Left',
  right: 'Right',
  home: 'Home',
  end: 'End',
  // XKeysymToString names Page_Up and Page_Down by their older aliases.
  pageup: 'Prior',
  pagedown: 'Next',
  insert: 'Insert',
  delete: 'Delete',
  printscreen: 'Print',
  shift: 'Shift_L',
  right_shift: 'Shift_R',
  control: 'Control_L',
  left_control: 'Control_L',
  right_control: 'Control_R',
  alt: 'Alt_L',
  right_alt: 'Alt_R',
  command: 'Super_L',
  capslock: 'Shift_Lock',
  '-': 'minus',
  '=': 'equal',
  '[': 'bracketleft',
  ']': 'bracketright',
  '\\': 'backslash',
  ';': 'semicolon',
  "'": 'apostrophe',
  '`': 'grave',
  ',': 'comma',
  '.': 'period',
  '/': 'slash',
  '+': 'plus',
  '*': 'asterisk',
};

/** The keysym robotjs presses for one of its key names, or undefined if this table does not know it. */
export function keysymForRobotKey(name: string): string | undefined {
  if (/^[a-z0-9]$/.test(name)) return name;
  if (/^f([1-9]|1[0-9]|2[0-4])$/.test(name)) return name.toUpperCase();
  return Object.hasOwn(NAMED_KEYSYMS, name) ? NAMED_KEYSYMS[name] : undefined;
}

/**
 * The keysyms some keycode produces on `display`, read once with `xmodmap -pke`. Undefined when
 * xmodmap is not installed or fails, in which case nothing can be checked.
 *
 * robotjs asks Xlib for the keycode of a keysym and sends keycode 0 when the keymap has none (a
 * German keymap has dead_grave but no grave); the server answers BadValue and Xlib's default error
 * handler exits the process. Checking against this set first turns that into a refused key.
 */
export function readBoundKeysyms(display: string): ReadonlySet<string> | undefined {
  const result = spawnSync('xmodmap', ['-display', display, '-pke'], {
    encoding: 'utf8',
    timeout: XMODMAP_TIMEOUT_MS,
  });
  if (result.status !== 0 || typeof result.stdout !== 'string') return undefined;
  const keysyms = new Set<string>();
  for (const line of result.stdout.split('\n')) {
    const [, symbols] = line.split('=');
    for (const symbol of symbols?.trim().split(/\s+/) ?? []) {
      if (symbol !== '' && symbol !== 'NoSymbol') keysyms.add(symbol);
    }
  }
  return keysyms.size > 0 ? keysyms : undefined;
}

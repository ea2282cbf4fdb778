import { existsSync } from 'node:fs';
import { RAW_VIDEO_INPUT_ARGS } from '../media/raw-video-feed.ts';
import { PlatformError } from './errors.ts';
import type { CaptureSource, Platform, ScreenSize } from './platform.ts';
import { loadRobotjs, type RobotjsModule, type RobotLike } from './robot.ts';
import { removeNow } from './self-delete.ts';
import { startX11Capture } from './x11-capture.ts';
import { keysymForRobotKey, readBoundKeysyms } from './x11-keymap.ts';
import { x11GuidanceOverlay } from './x11-overlay.ts';
import { listX11Windows, watchX11Window } from './x11-windows.ts';
import { listX11Monitors } from './xrandr-monitors.ts';

/** The X server socket for display :0, used when DISPLAY is unset (an agent started from a service). */
const DISPLAY_ZERO_SOCKET = '/tmp/.X11-unix/X0';

/**
 * robotjs key names whose keysym is missing from common X keymaps, refused when xmodmap is not there
 * to read the real keymap (see `readBoundKeysyms` for why a missing keysym must never reach robotjs).
 * - `capslock`: robotjs maps it to Shift_Lock, which the usual keymaps leave unbound.
 * - `right_alt`: layouts with AltGr bind ISO_Level3_Shift there instead of Alt_R.
 * - `f13`…`f24`: evdev keymaps bind XF86 launcher keysyms to those keys.
 */
const KEYS_WITHOUT_KEYCODE: ReadonlySet<string> = new Set([
  'capslock',
  'right_alt',
  ...Array.from({ length: 12 }, (_, i) => `f${i + 13}`),
]);

/** The display robotjs is currently bound to; robotjs keeps a single X connection per process. */
let boundDisplay: string | undefined;

/**
 * The X display to share: `DISPLAY`, or `:0` when it is unset but an X server listens there.
 * Throws a `PlatformError` saying what to do when there is neither.
 */
export function resolveX11Display(env: NodeJS.ProcessEnv = process.env): string {
  const { DISPLAY: display } = env;
  if (display) return display;
  if (existsSync(DISPLAY_ZERO_SOCKET)) return ':0';
  throw new PlatformError(
    'no-display',
    'DISPLAY is not set and no X server listens on :0. Start the agent from inside the desktop session ' +
      'you want to share (Wayland sessions provide DISPLAY through XWayland), or set DISPLAY, e.g. DISPLAY=:0.',
  );
}

/**
 * Linux: the X display named by `DISPLAY` is read when X DAMAGE says it changed (`startX11Capture`),
 * robotjs injects input with XTest.
 * Under Wayland only XWayland windows are visible to either, which is a limit of both tools.
 *
 * @example
 * const platform = createLinuxPlatform({ DISPLAY: ':99' });
 * platform.captureSource({ framerate: 30, size: platform.screenSize() });
 */
export function createLinuxPlatform(env: NodeJS.ProcessEnv = process.env): Platform {
  const display = resolveX11Display(env);
  /** Keysyms on the display's keymap; undefined until bound, or when xmodmap cannot tell. */
  let keysyms: ReadonlySet<string> | undefined;
  let keysymsRead = false;

  function bind(): RobotjsModule {
    const robot = loadRobotjs();
    if (boundDisplay !== display) {
      // robotjs opens ':0.0' before it looks at DISPLAY, so without this it would inject into :0 even
      // when the user's session is :1.
      robot.setXDisplayName(display);
      // Every robotjs input call dereferences the X connection without checking it; a display that
      // cannot be opened must fail here instead of crashing the process later.
      if (robot.getScreenSize().width === 0) {
        throw new PlatformError(
          'display-unreachable',
          `cannot open X display ${display}: check that DISPLAY is right and that this user may connect to it (xhost, XAUTHORITY).`,
        );
      }
      boundDisplay = display;
    }
    if (!keysymsRead) {
      keysyms = readBoundKeysyms(display);
      keysymsRead = true;
    }
    return robot;
  }

  function refuseWithoutKeycode(key: string): void {
    const keysym = keysymForRobotKey(key);
    const missing = keysyms ? keysym === undefined || !keysyms.has(keysym) : KEYS_WITHOUT_KEYCODE.has(key);
    if (missing) throw new Error(`no key on the keymap of ${display} produces ${keysym ?? key}`);
  }

  const robot: RobotLike = {
    getScreenSize: () => bind().getScreenSize(),
    moveMouse: (x, y) => bind().moveMouse(x, y),
    mouseToggle: (down, button) => bind().mouseToggle(down, button),
    scrollMouse: (x, y) => bind().scrollMouse(x, y),
    keyToggle: (key, down) => {
      const robot = bind();
      refuseWithoutKeycode(key);
      robot.keyToggle(key, down);
    },
    typeString: (text) => bind().typeString(text),
  };

  return {
    os: 'linux',
    typesCharacters: false,
    // X11 has no wheel deltas: each step is one press of button 4/5 (6/7 sideways).
    wheelUnitsPerStep: 1,
    removeOwnFiles: removeNow,
    robot() {
      bind();
      return robot;
    },
    screenSize(): ScreenSize {
      return bind().getScreenSize();
    },
    monitors: () => listX11Monitors(display),
    windows: () => listX11Windows(display),
    watchWindow: (id, onChange) => watchX11Window(display, id, onChange),
    guidanceOverlay: () => x11GuidanceOverlay(display),
    // -quiet keeps xclip in the foreground, serving the text until another program takes the
    // clipboard (it exits then) or the agent stops it: nothing of the session outlives the agent.
    clipboard: {
      read: ['xclip', '-selection', 'clipboard', '-o'],
      write: ['xclip', '-selection', 'clipboard', '-i', '-quiet'],
      env: { DISPLAY: display },
    },
    captureSource({ framerate, size, origin }): CaptureSource {
      // The screen is read on X DAMAGE (see startX11Capture) and handed to ffmpeg raw, each frame
      // stamped with the time it was read, so frames keep their real spacing however irregular it is,
      // and the frames that must be keyframes are marked (see RawVideoWriter).
      const area = { x: origin?.x ?? 0, y: origin?.y ?? 0, width: size.width, height: size.height };
      return {
        inputArgs: [...RAW_VIDEO_INPUT_ARGS],
        feed: (stdin, hooks, framing) =>
          startX11Capture({ display, area, framerate, stdin, hooks, ...(framing ? { framing } : {}) }),
      };
    },
  };
}

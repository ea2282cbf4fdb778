import { RAW_VIDEO_INPUT_ARGS } from '../media/raw-video-feed.ts';
import type { CaptureSource, Platform, ScreenSize } from './platform.ts';
import { loadRobotjs, type RobotLike } from './robot.ts';
import { removeAfterExit } from './self-delete.ts';
import { windowsDesktop } from './windows-desktop.ts';

/** Windows reports wheel movement in units of WHEEL_DELTA; one notch is 120. */
const WHEEL_DELTA = 120;

/**
 * Windows: the desktop helper captures the desktop when it changes, robotjs injects input with
 * SendInput.
 *
 * The primary monitor always starts at (0, 0) of the virtual desktop, so capturing `size` from the
 * origin leaves other monitors out. gdigrab scales the region by the display's DPI factor itself, so
 * the DPI-virtualised size robotjs reports still covers the whole primary screen; the helper does not
 * (DPI scaling other than 100 % is untried with it).
 *
 * With the desktop helper (`LIFELINE_DESKTOP_HELPER`, set by the packaged agent to the
 * `lifeline-desktop.exe` it unpacked) the agent feeds the encoder only changed pictures and
 * keyframes on request (`capture`), lists and captures one monitor, shares one window, and shares the
 * clipboard's text; without it (run from source) ffmpeg's gdigrab grabs the screen on a clock, and
 * the agent does none of the rest.
 */
export function createWindowsPlatform(env: NodeJS.ProcessEnv = process.env): Platform {
  let robot: RobotLike | undefined;
  const helper = env['LIFELINE_DESKTOP_HELPER'];
  const desktop = helper ? windowsDesktop(helper) : undefined;
  const platform: Platform = {
    ...(desktop
      ? {
          monitors: desktop.monitors,
          windows: desktop.windows,
          watchWindow: desktop.watchWindow,
          clipboard: desktop.clipboard,
          guidanceOverlay: desktop.guidanceOverlay,
        }
      : {}),
    os: 'windows',
    // Characters go in as Unicode, so text types what the operator's layout typed whatever the user's
    // layout is (RustDesk's translate mode); robotjs's keys are scan codes without a virtual key,
    // which Wine drops.
    typesCharacters: true,
    wheelUnitsPerStep: WHEEL_DELTA,
    removeOwnFiles: (files) => removeAfterExit(files),
    robot() {
      robot ??= loadRobotjs();
      return robot;
    },
    screenSize(): ScreenSize {
      return platform.robot().getScreenSize();
    },
    // One monitor or one window is its rectangle of the virtual desktop (whose coordinates the
    // helper and gdigrab's offsets take); what covers a shared window is blanked by the encoder
    // (`covered`). gdigrab's `-i title=…` is not used: titles change (notepad's gains a `*` on the
    // first edit) and need not be unique, and it would capture what lies over the window all the same.
    captureSource({ framerate, size, origin }): CaptureSource {
      const area = { x: origin?.x ?? 0, y: origin?.y ?? 0, width: size.width, height: size.height };
      if (desktop)
        return {
          inputArgs: [...RAW_VIDEO_INPUT_ARGS],
          feed: (stdin, hooks, framing) =>
            desktop.capture({ area, framerate, stdin, hooks, ...(framing ? { framing } : {}) }),
        };
      return {
        inputArgs: [
          '-f',
          'gdigrab',
          '-draw_mouse',
          '1',
          '-framerate',
          String(framerate),
          '-offset_x',
          String(area.x),
          '-offset_y',
          String(area.y),
          '-video_size',
          `${area.width}x${area.height}`,
          '-i',
          'desktop',
        ],
      };
    },
  };
  return platform;
}

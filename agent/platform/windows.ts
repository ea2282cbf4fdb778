import type { CaptureSource, Platform, ScreenSize } from './platform.ts';
import { loadRobotjs, type RobotLike } from './robot.ts';
import { removeAfterExit } from './self-delete.ts';

/** Windows reports wheel movement in units of WHEEL_DELTA; one notch is 120. */
const WHEEL_DELTA = 120;

/**
 * Windows: gdigrab captures the desktop, robotjs injects input with SendInput.
 *
 * The primary monitor always starts at (0, 0) of the virtual desktop, so capturing `size` from the
 * origin leaves other monitors out. gdigrab scales the region by the display's DPI factor itself, so
 * the DPI-virtualised size robotjs reports still covers the whole primary screen.
 */
export function createWindowsPlatform(): Platform {
  let robot: RobotLike | undefined;
  const platform: Platform = {
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
    captureSource({ framerate, size }): CaptureSource {
      return {
        inputArgs: [
          '-f',
          'gdigrab',
          '-draw_mouse',
          '1',
          '-framerate',
          String(framerate),
          '-offset_x',
          '0',
          '-offset_y',
          '0',
          '-video_size',
          `${size.width}x${size.height}`,
          '-i',
          'desktop',
        ],
      };
    },
  };
  return platform;
}

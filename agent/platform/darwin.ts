import type { CaptureSource, Platform, ScreenSize } from './platform.ts';
import { loadRobotjs, type RobotLike } from './robot.ts';
import { removeNow } from './self-delete.ts';

/**
 * robotjs posts macOS scroll events in pixels; a wheel notch scrolls about one line, which AppKit
 * draws about 10 points high.
 */
const PIXELS_PER_WHEEL_STEP = 10;

/**
 * macOS: AVFoundation captures the main display, robotjs injects input with CGEvents.
 *
 * AVFoundation delivers physical pixels (twice the point size on Retina) while robotjs and CGEvents
 * work in points; `screenSize()` is in points and the encoder scales the picture down to it, trading
 * Retina sharpness for a quarter of the bitrate and one coordinate space.
 *
 * The screen device refuses ffmpeg's default yuv420p, so the capture asks for uyvy422, which every
 * macOS version since 10.7 offers for screens. Capturing needs the Screen Recording permission and
 * injecting needs Accessibility; without them macOS delivers black frames and drops input silently.
 */
export function createDarwinPlatform(): Platform {
  let robot: RobotLike | undefined;
  const platform: Platform = {
    os: 'darwin',
    typesCharacters: false,
    wheelUnitsPerStep: PIXELS_PER_WHEEL_STEP,
    removeOwnFiles: removeNow,
    robot() {
      robot ??= loadRobotjs();
      return robot;
    },
    screenSize(): ScreenSize {
      return platform.robot().getScreenSize();
    },
    captureSource({ framerate }): CaptureSource {
      return {
        inputArgs: [
          '-f',
          'avfoundation',
          '-capture_cursor',
          '1',
          '-capture_mouse_clicks',
          '0',
          '-pixel_format',
          'uyvy422',
          '-framerate',
          String(framerate),
          // ':none' so AVFoundation does not also open the default microphone.
          '-i',
          'Capture screen 0:none',
        ],
      };
    },
  };
  return platform;
}

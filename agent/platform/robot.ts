import { createRequire } from 'node:module';
import { PlatformError } from './errors.ts';

/** The part of robotjs the agent uses to inject input. Platforms may wrap it to avoid their quirks. */
export interface RobotLike {
  getScreenSize(): { width: number; height: number };
  moveMouse(x: number, y: number): void;
  mouseToggle(down: 'down' | 'up', button: 'left' | 'right' | 'middle'): void;
  /** robotjs convention on every OS: positive x scrolls left, positive y scrolls up. */
  scrollMouse(x: number, y: number): void;
  keyToggle(key: string, down: 'down' | 'up'): void;
  /** Types text as characters, whatever the keyboard layout (Windows: SendInput with KEYEVENTF_UNICODE). */
  typeString(text: string): void;
}

/** The robotjs module as loaded, including the set-up calls the platforms need. */
export interface RobotjsModule extends RobotLike {
  setKeyboardDelay(ms: number): void;
  setMouseDelay(ms: number): void;
  /** Linux only: which X display robotjs opens. */
  setXDisplayName(name: string): void;
}

let loaded: RobotjsModule | undefined;
/** The add-on file to load instead of the robotjs package: set by the packaged agent. */
let addonPath: string | undefined;

/**
 * Loads robotjs from this add-on file (`process.dlopen`) instead of `node_modules`. The single
 * executable has no `node_modules`: it unpacks the robotjs prebuild into its private directory and
 * points here before anything uses input.
 */
export function useRobotjsAddon(path: string): void {
  addonPath = path;
  loaded = undefined;
}

function dlopenAddon(path: string): RobotjsModule {
  const module = { exports: {} };
  process.dlopen(module, path);
  return module.exports as RobotjsModule;
}

/**
 * Loads robotjs on first use, so that importing the agent works where the native module is missing
 * (the control plane, Deno without native add-ons) and only using input fails.
 *
 * robotjs sleeps 10 ms after every key and mouse call by default, which would block the event loop
 * on every input event; both delays are set to zero here.
 */
export function loadRobotjs(): RobotjsModule {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  let robot: RobotjsModule;
  try {
    robot = addonPath ? dlopenAddon(addonPath) : (require('robotjs') as RobotjsModule);
  } catch (error) {
    throw new PlatformError(
      'robotjs-missing',
      'robotjs is not available, so the agent cannot read the screen size or inject input. ' +
        'Reinstall the agent (npm install robotjs) on a supported OS and architecture.',
      { cause: error },
    );
  }
  robot.setKeyboardDelay(0);
  robot.setMouseDelay(0);
  loaded = robot;
  return robot;
}

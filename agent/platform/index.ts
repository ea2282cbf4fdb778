export { createDarwinPlatform } from './darwin.ts';
export { isPlatformError, PlatformError, type PlatformErrorKind } from './errors.ts';
export { createLinuxPlatform, resolveX11Display } from './linux.ts';
export { type CaptureSource, currentPlatform, type Platform, type ScreenSize } from './platform.ts';
export { loadRobotjs, type RobotjsModule, type RobotLike } from './robot.ts';
export { createWindowsPlatform } from './windows.ts';

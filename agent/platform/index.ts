export { createDarwinPlatform } from './darwin.ts';
export { isPlatformError, PlatformError, type PlatformErrorKind } from './errors.ts';
export { createLinuxPlatform, resolveX11Display } from './linux.ts';
export { type CaptureSource, currentPlatform, type Platform, type ScreenSize } from './platform.ts';
export { loadPty, type PtyModule, usePtyPackage } from './pty-module.ts';
export { loadRobotjs, type RobotjsModule, type RobotLike, useRobotjsAddon } from './robot.ts';
export { type OwnFiles, removeAfterExit, removeNow, windowsRemovalCommand } from './self-delete.ts';
export { createWindowsPlatform } from './windows.ts';

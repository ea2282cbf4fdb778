import type { RobotLike } from '../../agent/platform/robot.ts';

/**
 * A RobotLike that records the pointer calls it gets (`move x,y`, `left down`): the display is real
 * or the OS cannot run here, and what would reach it is read from `calls`.
 */
export function pointerRecordingRobot(screen: { width: number; height: number }): {
  robot: RobotLike;
  calls: string[];
} {
  const calls: string[] = [];
  const robot: RobotLike = {
    getScreenSize: () => ({ ...screen }),
    moveMouse: (x, y) => calls.push(`move ${x},${y}`),
    mouseToggle: (direction, button) => calls.push(`${button ?? 'left'} ${direction}`),
    scrollMouse: () => {},
    keyToggle: () => {},
    typeString: () => {},
  };
  return { robot, calls };
}

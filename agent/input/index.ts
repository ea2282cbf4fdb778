export {
  createInputInjector,
  type InputInjector,
  type InputInjectorOptions,
  type InputInjectorStats,
} from './input-injector.ts';
export { type RobotKey, robotKeyFor } from './key-map.ts';

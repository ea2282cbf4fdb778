import type { InputEvent, PointerButton } from '../../protocol/input.ts';
import { currentPlatform, type Platform, type ScreenSize } from '../platform/platform.ts';
import type { RobotLike } from '../platform/robot.ts';
import { type RobotKey, robotKeyFor } from './key-map.ts';

/** What happened to the events given to `apply`, for logs and the session summary. */
export interface InputInjectorStats {
  /** Events that reached the OS. */
  applied: number;
  /** Events dropped on purpose: unknown key codes, non-finite positions, zero scrolls. */
  ignored: number;
  /** Events the OS or robotjs refused. */
  failed: number;
}

export interface InputInjector {
  /** Injects one operator event. Never throws: problems are counted in `stats` and passed to `onError`. */
  apply(event: InputEvent): void;
  /** Lifts every key and mouse button still held; for when control is revoked or the session ends. */
  releaseAll(): void;
  /** A snapshot of the counters. */
  readonly stats: Readonly<InputInjectorStats>;
}

export interface InputInjectorOptions {
  /**
   * The size pointer positions are scaled to, asked for on every pointer event, and where it starts
   * on the desktop (`x`, `y`: the monitor shared; 0 when absent).
   */
  screen: () => ScreenSize & { x?: number; y?: number };
  /**
   * Whether a pointer position (fractions of `screen()`, unclamped) may be pointed at; events at
   * other positions are dropped instead of clamped to the edge. One shared window confines the
   * pointer to its uncovered part this way (README "Sharing one window"). Absent: every position.
   */
  accepts?: (x: number, y: number) => boolean;
  /** Where robotjs and the wheel unit come from; defaults to `currentPlatform()` when `robot` is not given. */
  platform?: Platform;
  /** Injects through this instead of the platform's robotjs (another runtime, or a recorder). */
  robot?: RobotLike;
  /** Called with each refused event (or a refused release during `releaseAll`), for logging. */
  onError?: (error: unknown, during: InputEvent | 'releaseAll') => void;
}

const BUTTONS: ReadonlySet<PointerButton> = new Set(['left', 'middle', 'right']);
/** Keys that make a press a shortcut rather than text. Shift is not one: `key` already has it. */
const SHORTCUT_MODIFIERS: ReadonlySet<string> = new Set([
  'ControlLeft',
  'ControlRight',
  'AltLeft',
  'AltRight',
  'MetaLeft',
  'MetaRight',
  'OSLeft',
  'OSRight',
]);

/** One character that types something: not a key name (`Enter`), nor a control character. */
function isPrintable(key: string | undefined): key is string {
  return key !== undefined && [...key].length === 1 && !/\p{C}/u.test(key);
}

/**
 * Turns operator input events into real mouse and keyboard input with robotjs.
 *
 * Positions arrive normalised to 0..1 and are scaled to `screen()` (clamped to the last pixel), so
 * the operator's canvas size never matters. Keys and buttons pressed through the injector are
 * remembered so that `releaseAll()` can lift them: a key left down when control is revoked would
 * otherwise stay down on the user's machine.
 *
 * Where the platform `typesCharacters` (Windows), a press that carries a printable `key` while no
 * Ctrl, Alt or Meta is held is typed as that character, once, and its release is dropped; every other
 * key, and every shortcut, is pressed and released as a key.
 *
 * @example
 * const platform = currentPlatform();
 * const input = createInputInjector({ screen: () => platform.screenSize(), platform });
 * input.apply({ kind: 'button', button: 'left', down: true, x: 0.5, y: 0.5 });
 * input.releaseAll();
 */
export function createInputInjector(options: InputInjectorOptions): InputInjector {
  const { robot, platform } = robotFor(options);
  const wheelUnitsPerStep = platform?.wheelUnitsPerStep ?? 1;
  const stats: InputInjectorStats = { applied: 0, ignored: 0, failed: 0 };
  /** Held keys by `KeyboardEvent.code`, with the robotjs name that went down. */
  const heldKeys = new Map<string, string>();
  const heldButtons = new Set<PointerButton>();
  /** Codes whose press was typed as a character: their release has nothing to lift. */
  const typedKeys = new Set<string>();
  /** Codes whose robotjs key this OS refused, so their fallback is used straight away. */
  const useFallback = new Set<string>();

  function toPixels(x: number, y: number): { x: number; y: number } | undefined {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return undefined;
    if (options.accepts && !options.accepts(x, y)) return undefined;
    const { width, height, x: left = 0, y: top = 0 } = options.screen();
    return {
      x: left + Math.min(width - 1, Math.max(0, Math.floor(x * width))),
      y: top + Math.min(height - 1, Math.max(0, Math.floor(y * height))),
    };
  }

  function toggleKey(code: string, target: RobotKey, direction: 'down' | 'up'): string {
    if (target.fallback !== undefined && useFallback.has(code)) {
      robot.keyToggle(target.fallback, direction);
      return target.fallback;
    }
    try {
      robot.keyToggle(target.key, direction);
      return target.key;
    } catch (error) {
      if (target.fallback === undefined) throw error;
      robot.keyToggle(target.fallback, direction);
      useFallback.add(code);
      return target.fallback;
    }
  }

  function shortcutHeld(): boolean {
    for (const code of heldKeys.keys()) if (SHORTCUT_MODIFIERS.has(code)) return true;
    return false;
  }

  /** Injects the event; false when it was dropped on purpose. */
  function inject(event: InputEvent): boolean {
    switch (event.kind) {
      case 'move': {
        const at = toPixels(event.x, event.y);
        if (!at) return false;
        robot.moveMouse(at.x, at.y);
        return true;
      }
      case 'button': {
        const at = toPixels(event.x, event.y);
        if (!at && !event.down && heldButtons.delete(event.button)) {
          // Released where input is not accepted: lifted where the pointer is, never left held.
          robot.mouseToggle('up', event.button);
          return true;
        }
        if (!at || !BUTTONS.has(event.button)) return false;
        // Move first: the press belongs where the operator clicked, even if no move preceded it.
        robot.moveMouse(at.x, at.y);
        robot.mouseToggle(event.down ? 'down' : 'up', event.button);
        if (event.down) heldButtons.add(event.button);
        else heldButtons.delete(event.button);
        return true;
      }
      case 'wheel': {
        const dx = Number.isFinite(event.dx) ? Math.round(event.dx) : 0;
        const dy = Number.isFinite(event.dy) ? Math.round(event.dy) : 0;
        if (dx === 0 && dy === 0) return false;
        // robotjs scrolls left and up for positive values; the protocol means right and down.
        robot.scrollMouse(-dx * wheelUnitsPerStep, -dy * wheelUnitsPerStep);
        return true;
      }
      case 'key': {
        if (event.down && platform?.typesCharacters && isPrintable(event.key) && !shortcutHeld()) {
          robot.typeString(event.key);
          typedKeys.add(event.code);
          return true;
        }
        if (!event.down && typedKeys.delete(event.code)) return true;
        const target = robotKeyFor(event.code);
        if (!target) return false;
        if (event.down) {
          heldKeys.set(event.code, toggleKey(event.code, target, 'down'));
        } else {
          // Lift the name that went down; a release without a press (the key was held before control
          // was granted) is still passed on, which is harmless and unsticks it.
          const held = heldKeys.get(event.code);
          heldKeys.delete(event.code);
          if (held !== undefined) robot.keyToggle(held, 'up');
          else toggleKey(event.code, target, 'up');
        }
        return true;
      }
      default:
        return false;
    }
  }

  return {
    apply(event) {
      try {
        if (inject(event)) stats.applied += 1;
        else stats.ignored += 1;
      } catch (error) {
        stats.failed += 1;
        options.onError?.(error, event);
      }
    },
    releaseAll() {
      const keys = [...heldKeys.values()];
      const buttons = [...heldButtons];
      heldKeys.clear();
      typedKeys.clear();
      heldButtons.clear();
      // Each release on its own: one refusal must not leave the others held.
      for (const key of keys) attempt(() => robot.keyToggle(key, 'up'));
      for (const button of buttons) attempt(() => robot.mouseToggle('up', button));
    },
    get stats() {
      return { ...stats };
    },
  };

  function attempt(release: () => void): void {
    try {
      release();
    } catch (error) {
      stats.failed += 1;
      options.onError?.(error, 'releaseAll');
    }
  }
}

function robotFor(options: InputInjectorOptions): { robot: RobotLike; platform: Platform | undefined } {
  if (options.robot) return { robot: options.robot, platform: options.platform };
  const platform = options.platform ?? currentPlatform();
  // Loading robotjs here, not at import, keeps the module importable where robotjs is missing while
  // still failing at start-up rather than at the operator's first click.
  return { robot: platform.robot(), platform };
}

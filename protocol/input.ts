/**
 * Input events as the console sends them. Pointer positions are normalised to 0..1 of the shared
 * screen so the operator's canvas size never matters; keys are `KeyboardEvent.code` values.
 */
export type PointerButton = 'left' | 'middle' | 'right';

export interface PointerMoveEvent {
  kind: 'move';
  x: number;
  y: number;
}

export interface PointerButtonEvent {
  kind: 'button';
  button: PointerButton;
  down: boolean;
  x: number;
  y: number;
}

export interface WheelEvent {
  kind: 'wheel';
  /** Scroll steps, positive to the right. */
  dx: number;
  /** Scroll steps, positive downwards. */
  dy: number;
}

export interface KeyEvent {
  kind: 'key';
  /** `KeyboardEvent.code`, for example `KeyA`, `Enter`, `ShiftLeft`. */
  code: string;
  /**
   * `KeyboardEvent.key` on a press, when the console sends it: the character the operator's own
   * layout typed (`a`, `A`, `é`), or a name (`Enter`). Agents that type text as characters use it.
   */
  key?: string;
  down: boolean;
}

export type InputEvent = PointerMoveEvent | PointerButtonEvent | WheelEvent | KeyEvent;

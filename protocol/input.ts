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
  down: boolean;
}

export type InputEvent = PointerMoveEvent | PointerButtonEvent | WheelEvent | KeyEvent;

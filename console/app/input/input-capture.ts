import type { InputEvent, PointerButton } from '../../../protocol/index.ts';
import { BUTTON_BITS, canvasPoint, wheelPixels, wheelSteps } from './geometry.ts';

/** Longest `KeyboardEvent.code` the protocol accepts. */
const MAX_KEY_CODE_LENGTH = 32;

/**
 * Captures the operator's mouse, wheel and keyboard on the screen canvas while they are in
 * control and turns them into protocol input events. Pointer moves are coalesced to one per
 * animation frame; keys and buttons still held are released when control ends or focus leaves.
 * @example
 * const capture = new InputCapture(canvas, (event) => relay.send({ type: 'input', event }));
 * capture.start();
 * // later
 * capture.stop();
 */
export class InputCapture {
  readonly #canvas: HTMLCanvasElement;
  readonly #send: (event: InputEvent) => void;
  readonly #heldKeys = new Set<string>();
  readonly #heldButtons = new Set<PointerButton>();
  #pendingMove: { x: number; y: number } | undefined;
  #frame: number | undefined;
  #active = false;
  /** Where the pointer was last seen, for releasing buttons without an event to read it from. */
  #lastPoint = { x: 0.5, y: 0.5 };
  readonly #listeners: Array<[string, (event: never) => void, AddEventListenerOptions?]>;

  constructor(canvas: HTMLCanvasElement, send: (event: InputEvent) => void) {
    this.#canvas = canvas;
    this.#send = send;
    this.#listeners = [
      ['pointermove', (event: PointerEvent) => this.#onPointerMove(event)],
      ['pointerdown', (event: PointerEvent) => this.#onPointerDown(event)],
      ['pointerup', (event: PointerEvent) => this.#syncButtons(event)],
      ['pointercancel', () => this.#releaseAll()],
      ['contextmenu', (event: Event) => event.preventDefault()],
      ['auxclick', (event: Event) => event.preventDefault()],
      // Not passive: the page must not scroll while the wheel scrolls the remote screen.
      ['wheel', (event: WheelEvent) => this.#onWheel(event), { passive: false }],
      ['keydown', (event: KeyboardEvent) => this.#onKey(event, true)],
      ['keyup', (event: KeyboardEvent) => this.#onKey(event, false)],
      ['blur', () => this.#releaseAll()],
    ];
  }

  get active(): boolean {
    return this.#active;
  }

  /** Starts capturing and focuses the canvas so keys go to the remote side. */
  start(): void {
    if (this.#active) return;
    this.#active = true;
    for (const [type, listener, options] of this.#listeners) {
      this.#canvas.addEventListener(type, listener as EventListener, options);
    }
    this.#canvas.focus({ preventScroll: true });
  }

  /** Releases everything still held on the remote side and stops capturing. */
  stop(): void {
    if (!this.#active) return;
    this.#releaseAll();
    this.#active = false;
    for (const [type, listener, options] of this.#listeners) {
      this.#canvas.removeEventListener(type, listener as EventListener, options);
    }
  }

  #point(event: MouseEvent): { x: number; y: number } {
    this.#lastPoint = canvasPoint(this.#canvas, event.clientX, event.clientY);
    return this.#lastPoint;
  }

  #onPointerMove(event: PointerEvent): void {
    // A second button pressed during a drag arrives as a pointermove, not a pointerdown.
    this.#syncButtons(event);
    this.#pendingMove = this.#point(event);
    this.#frame ??= requestAnimationFrame(() => {
      this.#frame = undefined;
      const move = this.#pendingMove;
      this.#pendingMove = undefined;
      if (move && this.#active) this.#send({ kind: 'move', ...move });
    });
  }

  #onPointerDown(event: PointerEvent): void {
    event.preventDefault();
    this.#canvas.focus({ preventScroll: true });
    // Keep receiving moves and the release when a drag leaves the canvas.
    this.#canvas.setPointerCapture(event.pointerId);
    this.#syncButtons(event);
  }

  /** Sends a button event for every button whose state differs from what the remote side has. */
  #syncButtons(event: PointerEvent): void {
    for (const [button, bit] of BUTTON_BITS) {
      const down = (event.buttons & bit) !== 0;
      if (down === this.#heldButtons.has(button)) continue;
      if (down) this.#heldButtons.add(button);
      else this.#heldButtons.delete(button);
      // The button event carries its own position; an older pending move would only go backwards.
      this.#pendingMove = undefined;
      this.#send({ kind: 'button', button, down, ...this.#point(event) });
    }
  }

  #onWheel(event: WheelEvent): void {
    event.preventDefault();
    const dx = wheelSteps(wheelPixels(event.deltaX, event.deltaMode));
    const dy = wheelSteps(wheelPixels(event.deltaY, event.deltaMode));
    if (dx !== 0 || dy !== 0) this.#send({ kind: 'wheel', dx, dy });
  }

  #onKey(event: KeyboardEvent, down: boolean): void {
    if (event.isComposing || event.code === '' || event.code.length > MAX_KEY_CODE_LENGTH) return;
    // Tab, Backspace, F5 and friends belong to the remote side while in control.
    event.preventDefault();
    if (down) {
      this.#heldKeys.add(event.code);
    } else if (!this.#heldKeys.delete(event.code)) {
      return;
    }
    // The character goes with a press only: agents that type text (Windows) need it, a release does not.
    const key = down && event.key !== '' && event.key.length <= MAX_KEY_CODE_LENGTH ? event.key : undefined;
    this.#send({ kind: 'key', code: event.code, ...(key === undefined ? {} : { key }), down });
  }

  #releaseAll(): void {
    if (this.#frame !== undefined) cancelAnimationFrame(this.#frame);
    this.#frame = undefined;
    this.#pendingMove = undefined;
    for (const code of this.#heldKeys) this.#send({ kind: 'key', code, down: false });
    this.#heldKeys.clear();
    for (const button of this.#heldButtons)
      this.#send({ kind: 'button', button, down: false, ...this.#lastPoint });
    this.#heldButtons.clear();
  }
}

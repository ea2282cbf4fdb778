import type { InputEvent, PointerButton } from '../../../protocol/index.ts';

/**
 * Longest a hold lasts, in ms: if the new stream never shows (the agent kept the monitor, or the
 * capture failed), the pointer comes back rather than staying dead.
 */
const MOST_HOLD_MS = 3000;

/**
 * Holds the operator's pointer while the picture is about to change its meaning: between choosing
 * another monitor and the first picture of the stream that shows it, the agent may already map
 * positions to the new monitor while the canvas still shows the old one, so a click there would land
 * on the new monitor at the same fraction. Moves, presses and wheel turns are dropped until that
 * picture, and so is the release of a dropped press; the release of a button pressed before the hold
 * passes (it must not stay down on the device), and so do keys (they go to the focused window
 * whatever is shown).
 * @example
 * const hold = new PointerHold();
 * hold.start(performance.now());        // the operator chose another monitor
 * hold.streamStarted();                 // `video-config` of the new stream
 * hold.pictureShown();                  // its first picture is drawn: the pointer is back
 * if (hold.passes(event, performance.now())) send(event);
 */
export class PointerHold {
  #since: number | undefined;
  #newStream = false;
  /** Buttons whose press went to the device and whose release has not. */
  readonly #down = new Set<PointerButton>();
  /** Pointer events dropped by holds so far. */
  dropped = 0;

  /** Holds the pointer from `now` until the first picture of the next stream. */
  start(now: number): void {
    this.#since = now;
    this.#newStream = false;
  }

  /** A new stream began (its configuration arrived); its first picture ends the hold. */
  streamStarted(): void {
    if (this.#since !== undefined) this.#newStream = true;
  }

  /** A picture was drawn. */
  pictureShown(): void {
    if (this.#newStream) this.#since = undefined;
  }

  /** Whether `event` may go to the device now. */
  passes(event: InputEvent, now: number): boolean {
    if (this.#since !== undefined && now - this.#since > MOST_HOLD_MS) this.#since = undefined;
    const passes =
      this.#since === undefined ||
      event.kind === 'key' ||
      (event.kind === 'button' && !event.down && this.#down.has(event.button));
    if (!passes) {
      this.dropped++;
      return false;
    }
    if (event.kind === 'button') {
      if (event.down) this.#down.add(event.button);
      else this.#down.delete(event.button);
    }
    return true;
  }
}

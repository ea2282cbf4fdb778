import {
  GUIDANCE_MESSAGES_PER_SECOND,
  type GuidanceMark,
  MAX_STROKE_POINTS,
} from '../../../protocol/index.ts';
import { canvasPoint } from '../input/geometry.ts';

/** The guidance toolbar's drawing tools; `clear` is an action, not a tool. */
export type GuidanceTool = 'pointer' | 'arrow' | 'circle' | 'pen';

type Point = { x: number; y: number };

/** The least time between two rate-limited marks (pointer moves, pen segments), in milliseconds. */
const MIN_GAP_MS = 1000 / GUIDANCE_MESSAGES_PER_SECOND;

/**
 * Turns the operator's pointer on the screen canvas into guidance marks (README "Guidance"), in the
 * same normalised coordinates input uses, while a tool is chosen: the pointer follows the mouse, an
 * arrow or a circle is a drag (from its tail or centre), the pen draws while a button is down.
 * Pointer moves and pen segments are rate-limited to GUIDANCE_MESSAGES_PER_SECOND (the latest
 * pointer position wins; pen points are sent in batches); arrows, circles and clears go at once.
 * Nothing here is input: the agent only draws.
 * @example
 * const guidance = new GuidanceCapture(canvas, (mark) => relay.send({ type: 'guidance', mark }));
 * guidance.setTool('arrow');
 */
export class GuidanceCapture {
  readonly #canvas: HTMLCanvasElement;
  readonly #send: (mark: GuidanceMark) => void;
  #tool: GuidanceTool | undefined;
  /** Where an arrow or circle drag started. */
  #dragFrom: Point | undefined;
  /** Pen points not sent yet, starting with the last one sent (so the segments join). */
  #stroke: Point[] = [];
  #pendingPointer: Point | undefined;
  #lastSentAt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #listeners: Array<['pointerdown' | 'pointermove' | 'pointerup', (event: PointerEvent) => void]>;

  constructor(canvas: HTMLCanvasElement, send: (mark: GuidanceMark) => void) {
    this.#canvas = canvas;
    this.#send = send;
    this.#listeners = [
      ['pointerdown', (event) => this.#onDown(event)],
      ['pointermove', (event) => this.#onMove(event)],
      ['pointerup', (event) => this.#onUp(event)],
    ];
  }

  get tool(): GuidanceTool | undefined {
    return this.#tool;
  }

  /** Chooses a tool (the canvas then draws instead of doing nothing), or none. */
  setTool(tool: GuidanceTool | undefined): void {
    const listening = this.#tool !== undefined;
    this.#tool = tool;
    this.#dragFrom = undefined;
    this.#stroke = [];
    if (tool && !listening) for (const [type, l] of this.#listeners) this.#canvas.addEventListener(type, l);
    if (!tool && listening) {
      for (const [type, l] of this.#listeners) this.#canvas.removeEventListener(type, l);
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#pendingPointer = undefined;
    }
  }

  /** Removes this operator's marks from the user's screen. */
  clear(): void {
    this.#stroke = [];
    this.#pendingPointer = undefined;
    this.#send({ kind: 'clear' });
  }

  #point(event: PointerEvent): Point {
    return canvasPoint(this.#canvas, event.clientX, event.clientY);
  }

  #onDown(event: PointerEvent): void {
    event.preventDefault();
    // Keep receiving moves and the release when a drag leaves the canvas.
    this.#canvas.setPointerCapture?.(event.pointerId);
    const at = this.#point(event);
    if (this.#tool === 'arrow' || this.#tool === 'circle') this.#dragFrom = at;
    if (this.#tool === 'pen') this.#stroke = [at];
  }

  #onMove(event: PointerEvent): void {
    const at = this.#point(event);
    if (this.#tool === 'pointer') {
      this.#pendingPointer = at;
      this.#schedule();
    } else if (this.#tool === 'pen' && this.#stroke.length > 0) {
      this.#stroke.push(at);
      if (this.#stroke.length >= MAX_STROKE_POINTS) this.#flush();
      else this.#schedule();
    }
  }

  #onUp(event: PointerEvent): void {
    const at = this.#point(event);
    const from = this.#dragFrom;
    this.#dragFrom = undefined;
    if (this.#tool === 'arrow' && from) this.#send({ kind: 'arrow', from, to: at });
    if (this.#tool === 'circle' && from) this.#send({ kind: 'circle', center: from, edge: at });
    if (this.#tool === 'pen' && this.#stroke.length > 0) {
      this.#stroke.push(at);
      this.#flush();
      this.#stroke = [];
    }
  }

  /** Sends what waits once the rate allows. */
  #schedule(): void {
    if (this.#timer !== undefined) return;
    const wait = Math.max(0, this.#lastSentAt + MIN_GAP_MS - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, wait);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#lastSentAt = Date.now();
    if (this.#pendingPointer) {
      this.#send({ kind: 'pointer', at: this.#pendingPointer });
      this.#pendingPointer = undefined;
    }
    if (this.#stroke.length > 1) {
      const points = this.#stroke.slice(0, MAX_STROKE_POINTS);
      this.#send({ kind: 'stroke', points });
      // The next batch starts where this one ended, so the line has no gap.
      this.#stroke = this.#stroke.slice(points.length - 1);
    }
  }
}

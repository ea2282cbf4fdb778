import {
  cssColour,
  GUIDANCE_MARK_LIFETIME_MS,
  GUIDANCE_POINTER_LIFETIME_MS,
  type GuidanceMark,
} from '../../../protocol/index.ts';
import { containedRect } from '../input/geometry.ts';

/** Half the width of arrows, circles and strokes, in CSS pixels (the agent's are 3 screen pixels). */
const LINE_HALF_WIDTH_PX = 2.5;
/** The pointer's dot, its radius in CSS pixels. */
const POINTER_RADIUS_PX = 7;
/** Each side of an arrow's head, in CSS pixels. */
const ARROW_HEAD_PX = 16;

interface EchoedMark {
  mark: Exclude<GuidanceMark, { kind: 'clear' }>;
  /** Milliseconds since the Unix epoch. */
  expiresAt: number;
}

/**
 * The operator's own guidance marks drawn over their view of the screen the moment they make them
 * (README "Guidance"), in their colour, fading when the agent's do: the video brings the marks on the
 * user's screen back only a frame or more later, and not at all while the picture is paused. A
 * canvas laid over the screen's canvas draws them; it takes no pointer events.
 * @example
 * const echo = new GuidanceEcho(screenCanvas, echoCanvas);
 * echo.setColour(0x2080ff);
 * echo.add({ kind: 'arrow', from: { x: 0.2, y: 0.4 }, to: { x: 0.6, y: 0.4 } });
 */
export class GuidanceEcho {
  readonly #screen: HTMLCanvasElement;
  readonly #canvas: HTMLCanvasElement;
  #marks: EchoedMark[] = [];
  #colour = '#ff2020';
  #fadeTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #resize: ResizeObserver | undefined;

  constructor(screen: HTMLCanvasElement, canvas: HTMLCanvasElement) {
    this.#screen = screen;
    this.#canvas = canvas;
    this.#resize = typeof ResizeObserver === 'function' ? new ResizeObserver(() => this.#draw()) : undefined;
    this.#resize?.observe(screen);
  }

  /** This operator's colour (24-bit RGB), as the relay gave it. */
  setColour(rgb: number): void {
    const colour = cssColour(rgb);
    if (colour === this.#colour) return;
    this.#colour = colour;
    this.#canvas.dataset['colour'] = colour;
    this.#draw();
  }

  /** A mark just sent: drawn at once; a pointer replaces the last one, a clear removes them all. */
  add(mark: GuidanceMark): void {
    if (mark.kind === 'clear') {
      this.clear();
      return;
    }
    const lifetime = mark.kind === 'pointer' ? GUIDANCE_POINTER_LIFETIME_MS : GUIDANCE_MARK_LIFETIME_MS;
    const kept = mark.kind === 'pointer' ? this.#marks.filter((m) => m.mark.kind !== 'pointer') : this.#marks;
    this.#marks = [...kept, { mark, expiresAt: Date.now() + lifetime }];
    this.#draw();
  }

  clear(): void {
    this.#marks = [];
    this.#draw();
  }

  dispose(): void {
    clearTimeout(this.#fadeTimer);
    this.#resize?.disconnect();
    this.#marks = [];
    this.#canvas.hidden = true;
  }

  #draw(): void {
    const now = Date.now();
    this.#marks = this.#marks.filter((m) => m.expiresAt > now);
    clearTimeout(this.#fadeTimer);
    this.#fadeTimer = undefined;
    const canvas = this.#canvas;
    const screen = this.#screen;
    canvas.dataset['marks'] = String(this.#marks.length);
    canvas.hidden = this.#marks.length === 0 || screen.clientWidth === 0;
    if (canvas.hidden) return;
    const next = Math.min(...this.#marks.map((m) => m.expiresAt));
    this.#fadeTimer = setTimeout(() => this.#draw(), next - now);

    // Laid exactly over the screen's canvas; marks land in the picture inside it (letterboxed).
    const style = canvas.style;
    style.left = `${screen.offsetLeft}px`;
    style.top = `${screen.offsetTop}px`;
    style.width = `${screen.clientWidth}px`;
    style.height = `${screen.clientHeight}px`;
    const ratio = globalThis.devicePixelRatio || 1;
    canvas.width = Math.round(screen.clientWidth * ratio);
    canvas.height = Math.round(screen.clientHeight * ratio);
    const context = canvas.getContext('2d');
    if (!context) return;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    const picture = containedRect(
      { left: 0, top: 0, width: screen.clientWidth, height: screen.clientHeight },
      screen.width,
      screen.height,
    );
    const at = (p: { x: number; y: number }) => ({
      x: picture.left + p.x * picture.width,
      y: picture.top + p.y * picture.height,
    });
    context.strokeStyle = this.#colour;
    context.fillStyle = this.#colour;
    context.lineWidth = LINE_HALF_WIDTH_PX * 2;
    context.lineCap = 'round';
    context.lineJoin = 'round';
    for (const { mark } of this.#marks) {
      context.beginPath();
      switch (mark.kind) {
        case 'pointer': {
          const p = at(mark.at);
          context.arc(p.x, p.y, POINTER_RADIUS_PX, 0, 2 * Math.PI);
          context.fill();
          break;
        }
        case 'arrow': {
          const from = at(mark.from);
          const to = at(mark.to);
          const angle = Math.atan2(to.y - from.y, to.x - from.x);
          context.moveTo(from.x, from.y);
          context.lineTo(to.x, to.y);
          for (const side of [-1, 1]) {
            context.moveTo(to.x, to.y);
            context.lineTo(
              to.x - ARROW_HEAD_PX * Math.cos(angle + (side * Math.PI) / 6),
              to.y - ARROW_HEAD_PX * Math.sin(angle + (side * Math.PI) / 6),
            );
          }
          context.stroke();
          break;
        }
        case 'circle': {
          const centre = at(mark.center);
          const edge = at(mark.edge);
          context.arc(centre.x, centre.y, Math.hypot(edge.x - centre.x, edge.y - centre.y), 0, 2 * Math.PI);
          context.stroke();
          break;
        }
        case 'stroke': {
          const [first, ...rest] = mark.points.map(at);
          if (!first) break;
          context.moveTo(first.x, first.y);
          for (const p of rest) context.lineTo(p.x, p.y);
          if (rest.length === 0) context.lineTo(first.x + 0.1, first.y);
          context.stroke();
          break;
        }
      }
    }
  }
}

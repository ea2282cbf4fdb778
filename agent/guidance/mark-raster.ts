import type { GuidanceMark } from '../../protocol/index.ts';
import type { PixelRect } from '../core/ports.ts';

/** Where normalised 0..1 positions land on the desktop: the shared monitor, as input uses it. */
export interface MarkArea {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Half the width of arrows, circles and strokes, in pixels. */
const LINE_RADIUS_PX = 3;
/** The operator's pointer: a dot this wide (radius), in pixels. */
const POINTER_RADIUS_PX = 9;
/** Length of each side of an arrow's head, in pixels. */
const ARROW_HEAD_PX = 24;
/** Half the opening of an arrow's head, in radians (30°). */
const ARROW_HEAD_ANGLE = Math.PI / 6;

/**
 * The pixels of a set of marks as horizontal spans per row, merged into rectangles: what a shaped
 * window (X11 SHAPE) or a layered window paints. Rows with the same span are stacked into one
 * rectangle, so a straight vertical line stays one rectangle.
 */
class Spans {
  private readonly rows = new Map<number, Array<[number, number]>>();

  constructor(private readonly clip: MarkArea) {}

  private span(y: number, x0: number, x1: number): void {
    const { x, y: top, width, height } = this.clip;
    if (y < top || y >= top + height) return;
    const from = Math.max(x, x0);
    const to = Math.min(x + width - 1, x1);
    if (from > to) return;
    const row = this.rows.get(y);
    if (row) row.push([from, to]);
    else this.rows.set(y, [[from, to]]);
  }

  /** A filled disc. */
  disc(cx: number, cy: number, radius: number): void {
    for (let dy = -radius; dy <= radius; dy++) {
      const half = Math.floor(Math.sqrt(radius * radius - dy * dy));
      this.span(Math.round(cy) + dy, Math.round(cx) - half, Math.round(cx) + half);
    }
  }

  /** A line `radius` thick on each side: discs stamped a pixel apart. */
  segment(ax: number, ay: number, bx: number, by: number, radius: number): void {
    const steps = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay)));
    for (let i = 0; i <= steps; i++) {
      this.disc(ax + ((bx - ax) * i) / steps, ay + ((by - ay) * i) / steps, radius);
    }
  }

  /** A ring: its circumference stamped a pixel apart. */
  ring(cx: number, cy: number, r: number, radius: number): void {
    const steps = Math.max(8, Math.ceil(2 * Math.PI * r));
    for (let i = 0; i < steps; i++) {
      const angle = (2 * Math.PI * i) / steps;
      this.disc(cx + r * Math.cos(angle), cy + r * Math.sin(angle), radius);
    }
  }

  rectangles(): PixelRect[] {
    const out: PixelRect[] = [];
    /** Rectangles still growing downwards, by their span `x0,x1`. */
    let open = new Map<string, PixelRect>();
    const ys = [...this.rows.keys()].sort((a, b) => a - b);
    let previousY = Number.NaN;
    for (const y of ys) {
      const merged = mergeSpans(this.rows.get(y) ?? []);
      const next = new Map<string, PixelRect>();
      for (const [x0, x1] of merged) {
        const key = `${x0},${x1}`;
        const above = y === previousY + 1 ? open.get(key) : undefined;
        if (above) {
          above.height++;
          next.set(key, above);
        } else {
          const rect = { x: x0, y, width: x1 - x0 + 1, height: 1 };
          out.push(rect);
          next.set(key, rect);
        }
      }
      open = next;
      previousY = y;
    }
    return out;
  }
}

function mergeSpans(spans: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [x0, x1] of sorted) {
    const last = merged[merged.length - 1];
    if (last && x0 <= last[1] + 1) last[1] = Math.max(last[1], x1);
    else merged.push([x0, x1]);
  }
  return merged;
}

/**
 * The desktop pixels of guidance marks, in `area` (the shared monitor), as rectangles to paint.
 *
 * @example
 * rasteriseMarks([{ kind: 'pointer', at: { x: 0.5, y: 0.5 } }], { x: 0, y: 0, width: 800, height: 600 });
 * // a dot around (400, 300)
 */
export function rasteriseMarks(marks: readonly GuidanceMark[], area: MarkArea): PixelRect[] {
  const spans = new Spans(area);
  const px = (p: { x: number; y: number }) => ({
    x: area.x + p.x * area.width,
    y: area.y + p.y * area.height,
  });
  for (const mark of marks) {
    switch (mark.kind) {
      case 'pointer': {
        const at = px(mark.at);
        spans.disc(at.x, at.y, POINTER_RADIUS_PX);
        break;
      }
      case 'arrow': {
        const from = px(mark.from);
        const to = px(mark.to);
        spans.segment(from.x, from.y, to.x, to.y, LINE_RADIUS_PX);
        const back = Math.atan2(from.y - to.y, from.x - to.x);
        for (const side of [-1, 1]) {
          const angle = back + side * ARROW_HEAD_ANGLE;
          const tip = {
            x: to.x + ARROW_HEAD_PX * Math.cos(angle),
            y: to.y + ARROW_HEAD_PX * Math.sin(angle),
          };
          spans.segment(to.x, to.y, tip.x, tip.y, LINE_RADIUS_PX);
        }
        break;
      }
      case 'circle': {
        const center = px(mark.center);
        const edge = px(mark.edge);
        spans.ring(center.x, center.y, Math.hypot(edge.x - center.x, edge.y - center.y), LINE_RADIUS_PX);
        break;
      }
      case 'stroke': {
        const points = mark.points.map(px);
        const first = points[0];
        if (first) spans.disc(first.x, first.y, LINE_RADIUS_PX);
        for (let i = 1; i < points.length; i++) {
          const a = points[i - 1]!;
          const b = points[i]!;
          spans.segment(a.x, a.y, b.x, b.y, LINE_RADIUS_PX);
        }
        break;
      }
      case 'clear':
        break;
    }
  }
  return spans.rectangles();
}

import {
  GUIDANCE_MARK_LIFETIME_MS,
  GUIDANCE_POINTER_LIFETIME_MS,
  type GuidanceMark,
  guidanceColour,
} from '../../protocol/index.ts';
import type { GuidanceLayer, GuidanceOverlay } from '../core/ports.ts';
import { type MarkArea, rasteriseMarks } from './mark-raster.ts';

/** Marks kept per operator; the oldest goes first. */
const MAX_MARKS_PER_OPERATOR = 64;

interface LiveMark {
  mark: GuidanceMark;
  /** Milliseconds since the Unix epoch. */
  expiresAt: number;
}

/** What guidance needs from the device: where to paint, and where normalised positions land. */
export interface GuidanceHost {
  overlay: GuidanceOverlay;
  /** The shared monitor (the whole desktop when none is chosen), as input maps positions to. */
  area(): MarkArea;
}

/**
 * The marks operators draw on the end user's screen, while the user allows `guidance`: each
 * operator's own (by slot), an operator's pointer replacing their last, every mark fading after
 * GUIDANCE_MARK_LIFETIME_MS (the pointer after GUIDANCE_POINTER_LIFETIME_MS). Painting never fails
 * the session: an overlay that cannot paint is reported once through `status`.
 */
export class SessionGuidance {
  private readonly marks = new Map<number, LiveMark[]>();
  /** Each operator's colour (24-bit RGB), by slot. */
  private readonly colours = new Map<number, number>();
  private fadeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Paints run one after the other, so the last one wins. */
  private painting: Promise<void> = Promise.resolve();
  private failed = false;
  private finished = false;
  /** Marks that arrived while guidance was not allowed, and were not drawn. */
  dropped = 0;

  constructor(
    private readonly host: GuidanceHost | undefined,
    private readonly allows: () => boolean,
    private readonly status: (text: string) => void,
  ) {}

  /** Whether this device can draw marks at all (its platform has an overlay). */
  get offered(): boolean {
    return this.host !== undefined;
  }

  /** An operator's mark, in their colour (its index, `guidanceColour`): drawn when allowed, counted and dropped otherwise. */
  receive(slot: number, mark: GuidanceMark, colour = 0): void {
    if (!this.host || this.finished || !this.allows()) {
      this.dropped++;
      return;
    }
    if (mark.kind === 'clear') {
      this.clear(slot);
      return;
    }
    this.colours.set(slot, guidanceColour(colour));
    const now = Date.now();
    const own = (this.marks.get(slot) ?? []).filter((live) =>
      mark.kind === 'pointer' ? live.mark.kind !== 'pointer' : true,
    );
    const lifetime = mark.kind === 'pointer' ? GUIDANCE_POINTER_LIFETIME_MS : GUIDANCE_MARK_LIFETIME_MS;
    own.push({ mark, expiresAt: now + lifetime });
    this.marks.set(slot, own.slice(-MAX_MARKS_PER_OPERATOR));
    this.paint();
  }

  /** Removes one operator's marks (they cleared them or left), or everyone's. */
  clear(slot?: number): void {
    if (slot === undefined) this.marks.clear();
    else this.marks.delete(slot);
    this.paint();
  }

  /** Removes every mark and the overlay itself: the session is over. */
  async finish(): Promise<void> {
    this.finished = true;
    clearTimeout(this.fadeTimer);
    this.marks.clear();
    await this.painting;
    await this.host?.overlay.close().catch(() => undefined);
  }

  private paint(): void {
    const host = this.host;
    if (!host) return;
    const now = Date.now();
    let nextExpiry = Number.POSITIVE_INFINITY;
    // One layer per colour: operators who share one (past the palette's end) share a layer.
    const byColour = new Map<number, GuidanceMark[]>();
    for (const [slot, marks] of this.marks) {
      const kept = marks.filter((m) => m.expiresAt > now);
      if (kept.length === 0) this.marks.delete(slot);
      else this.marks.set(slot, kept);
      const colour = this.colours.get(slot) ?? guidanceColour(0);
      const live = byColour.get(colour) ?? [];
      for (const m of kept) {
        live.push(m.mark);
        nextExpiry = Math.min(nextExpiry, m.expiresAt);
      }
      if (live.length > 0) byColour.set(colour, live);
    }
    clearTimeout(this.fadeTimer);
    this.fadeTimer = undefined;
    if (Number.isFinite(nextExpiry)) this.fadeTimer = setTimeout(() => this.paint(), nextExpiry - now);
    const area = host.area();
    const layers: GuidanceLayer[] = [...byColour].map(([colour, marks]) => ({
      colour,
      rectangles: rasteriseMarks(marks, area),
    }));
    this.painting = this.painting
      .then(() => host.overlay.show(layers))
      .catch((error: unknown) => {
        if (this.failed) return;
        this.failed = true;
        this.status(
          `Could not draw the help desk's marks: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
  }
}

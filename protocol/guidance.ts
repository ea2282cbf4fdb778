/**
 * Guidance (README "Guidance"): the operator shows their pointer and simple marks (an arrow, a
 * circle, a freehand stroke) that the agent draws over the end user's screen. Marks travel as
 * `guidance` control messages in the normalised 0..1 coordinates input uses; nothing is injected.
 */

/** Most points in one `stroke` mark; the console sends a longer stroke as several. */
export const MAX_STROKE_POINTS = 256;

/** How long a mark stays on the user's screen before it fades, in milliseconds. */
export const GUIDANCE_MARK_LIFETIME_MS = 10_000;

/** How long the operator's pointer stays shown after it last moved, in milliseconds. */
export const GUIDANCE_POINTER_LIFETIME_MS = 3_000;

/**
 * The colours operators' marks are drawn in (24-bit RGB): each operator of a session has their own,
 * by the order they first joined it (the relay's `colour` index), the same on the user's screen and
 * in every console. The first is the red marks had before colours were per operator.
 */
export const GUIDANCE_COLOURS: readonly number[] = [
  0xff2020, 0x2080ff, 0x20c040, 0xffa000, 0xc040ff, 0x00c0c0, 0xff40a0, 0x909000,
];

/** The colour of the operator with this `colour` index, as 24-bit RGB (the palette repeats past its end). */
export function guidanceColour(index: number): number {
  return GUIDANCE_COLOURS[index % GUIDANCE_COLOURS.length] ?? GUIDANCE_COLOURS[0]!;
}

/** A 24-bit RGB colour as CSS writes it: `#ff2020`. */
export function cssColour(rgb: number): string {
  return `#${rgb.toString(16).padStart(6, '0')}`;
}

/** Most `guidance` messages a console sends per second; pointer moves in between are coalesced. */
export const GUIDANCE_MESSAGES_PER_SECOND = 20;

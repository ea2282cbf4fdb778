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

/** Most `guidance` messages a console sends per second; pointer moves in between are coalesced. */
export const GUIDANCE_MESSAGES_PER_SECOND = 20;

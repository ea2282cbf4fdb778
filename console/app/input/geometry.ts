import type { PointerButton } from '../../../protocol/index.ts';

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Where a picture of `width`×`height` is actually drawn inside `box` when scaled to fit without
 * distortion (CSS `object-fit: contain`): the box minus any letterbox bars.
 */
export function containedRect(box: Rect, width: number, height: number): Rect {
  if (width <= 0 || height <= 0 || box.width <= 0 || box.height <= 0) return box;
  const scale = Math.min(box.width / width, box.height / height);
  const shown = { width: width * scale, height: height * scale };
  return {
    left: box.left + (box.width - shown.width) / 2,
    top: box.top + (box.height - shown.height) / 2,
    ...shown,
  };
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * A pointer position as a fraction of the displayed picture, clamped to 0..1, so that the remote
 * side maps it onto its own screen whatever the canvas's CSS size.
 * @example normalizePoint(150, 100, { left: 100, top: 50, width: 200, height: 100 }) // { x: 0.25, y: 0.5 }
 */
export function normalizePoint(clientX: number, clientY: number, area: Rect): { x: number; y: number } {
  return {
    x: area.width > 0 ? clamp((clientX - area.left) / area.width, 0, 1) : 0,
    y: area.height > 0 ? clamp((clientY - area.top) / area.height, 0, 1) : 0,
  };
}

/**
 * Where a pointer event lands on the remote screen shown in `canvas` (scaled by CSS, letterboxed by
 * object-fit), normalised to 0..1 and rounded to four decimals (10,000 pixels; short JSON): the one
 * mapping input and guidance marks share.
 */
export function canvasPoint(
  canvas: HTMLCanvasElement,
  clientX: number,
  clientY: number,
): { x: number; y: number } {
  const area = containedRect(canvas.getBoundingClientRect(), canvas.width, canvas.height);
  const { x, y } = normalizePoint(clientX, clientY, area);
  return { x: Math.round(x * 10_000) / 10_000, y: Math.round(y * 10_000) / 10_000 };
}

/** Pixels per line and per page when a wheel event reports lines or pages instead of pixels. */
const WHEEL_LINE_PX = 100 / 3;
const WHEEL_PAGE_PX = 800;
/** Pixels of wheel delta per scroll step: one notch of a common mouse wheel. */
const WHEEL_STEP_PX = 100;
/** Largest step count in one event; the protocol refuses more. */
export const MAX_WHEEL_STEPS = 50;

/** A `WheelEvent` delta in pixels, whatever its `deltaMode`. */
export function wheelPixels(delta: number, deltaMode: number): number {
  if (deltaMode === 1) return delta * WHEEL_LINE_PX;
  if (deltaMode === 2) return delta * WHEEL_PAGE_PX;
  return delta;
}

/**
 * Whole scroll steps for a delta in pixels: at least one step for any movement, so trackpads'
 * small deltas still scroll, and never more than {@link MAX_WHEEL_STEPS}.
 * @example wheelSteps(-240) // -2
 */
export function wheelSteps(pixels: number): number {
  if (pixels === 0 || !Number.isFinite(pixels)) return 0;
  const steps = Math.max(1, Math.round(Math.abs(pixels) / WHEEL_STEP_PX));
  return Math.sign(pixels) * Math.min(MAX_WHEEL_STEPS, steps);
}

/** `PointerEvent.buttons` bits of the buttons the protocol carries. */
export const BUTTON_BITS: ReadonlyArray<readonly [PointerButton, number]> = [
  ['left', 1],
  ['right', 2],
  ['middle', 4],
];

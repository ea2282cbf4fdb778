/**
 * The counter the test client paints and the viewers read back: 8 bits as black/white squares, then
 * the same 8 bits inverted. A picture is read as a value only when every bit and its inverse
 * disagree, so a picture caught halfway through a repaint (or blurred by a codec) never reads as a
 * wrong value. Shared by the X client (`probe-main.ts`), the in-page reader and the ffmpeg overlay.
 */

/** Bits in the counter; values wrap at 2^8. */
export const COUNTER_BITS = 8;
export const COUNTER_MODULO = 2 ** COUNTER_BITS;
/** Side of one square, in screen pixels: large enough to survive JPEG and H.264 at default quality. */
export const BLOCK_PX = 32;
/** Width of the whole strip: the bits, then their inverses. */
export const STRIP_WIDTH_PX = 2 * COUNTER_BITS * BLOCK_PX;

/** Where the test client's window sits on the display (top-left corner, above everything else). */
export const PROBE_WINDOW = { x: 0, y: 0, width: STRIP_WIDTH_PX + 2 * BLOCK_PX, height: 3 * BLOCK_PX };
/** The strip's top-left corner on the display, inside the probe window. */
export const PROBE_STRIP = { x: PROBE_WINDOW.x + BLOCK_PX, y: PROBE_WINDOW.y + BLOCK_PX };

/** Squares to paint white and black for `value`, as flat x, y, width, height lists relative to the strip. */
export function counterSquares(value: number): { white: number[]; black: number[] } {
  const white: number[] = [];
  const black: number[] = [];
  for (let bit = 0; bit < COUNTER_BITS; bit++) {
    const on = ((value >> bit) & 1) === 1;
    const square = [bit * BLOCK_PX, 0, BLOCK_PX, BLOCK_PX];
    const inverse = [(COUNTER_BITS + bit) * BLOCK_PX, 0, BLOCK_PX, BLOCK_PX];
    (on ? white : black).push(...square);
    (on ? black : white).push(...inverse);
  }
  return { white, black };
}

/**
 * Reads the counter from the luminance at the centre of each square (`luma(i)` for square i, 0..255);
 * undefined when the squares do not form a valid value.
 */
export function readCounter(luma: (square: number) => number): number | undefined {
  let value = 0;
  for (let bit = 0; bit < COUNTER_BITS; bit++) {
    const on = luma(bit) > 128;
    const inverseOn = luma(COUNTER_BITS + bit) > 128;
    if (on === inverseOn) return undefined;
    if (on) value |= 1 << bit;
  }
  return value;
}

/**
 * An ffmpeg filter chain that paints the counter of the frame number (`n`) at (`x`, `y`) of a video,
 * so the viewer can tell distinct video frames apart.
 */
export function counterOverlayFilter(x: number, y: number): string {
  // Inside '…' the filter-graph parser takes commas literally, so the expressions need no escaping.
  const parts = [`drawbox=x=${x}:y=${y}:w=${STRIP_WIDTH_PX}:h=${BLOCK_PX}:color=black:t=fill`];
  for (let bit = 0; bit < COUNTER_BITS; bit++) {
    const on = `eq(mod(floor(n/${2 ** bit}),2),1)`;
    const off = `eq(mod(floor(n/${2 ** bit}),2),0)`;
    parts.push(
      `drawbox=x=${x + bit * BLOCK_PX}:y=${y}:w=${BLOCK_PX}:h=${BLOCK_PX}:color=white:t=fill:enable='${on}'`,
      `drawbox=x=${x + (COUNTER_BITS + bit) * BLOCK_PX}:y=${y}:w=${BLOCK_PX}:h=${BLOCK_PX}:color=white:t=fill:enable='${off}'`,
    );
  }
  return parts.join(',');
}

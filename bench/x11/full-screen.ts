/**
 * The pattern the test client paints over the whole screen in its full-screen mode (`probe-main.ts`):
 * a checkerboard of two colours that swap places on every change of the counter, so each change
 * repaints every pixel of the screen. Neither colour is the counter's black or white.
 */

/** The two colours, as 24-bit TrueColor pixels (0xRRGGBB): orange and blue. */
export const FULL_SCREEN_COLOURS = [0xd08030, 0x3070d0] as const;
/** Side of one square of the checkerboard, in screen pixels. */
export const FULL_SCREEN_SQUARE_PX = 40;

/**
 * The squares to fill in each colour for counter `value`, as flat x, y, width, height lists: index 0
 * for `FULL_SCREEN_COLOURS[0]`, index 1 for the other. The screen's edge squares are cut to fit.
 */
export function fullScreenSquares(width: number, height: number, value: number): [number[], number[]] {
  const squares: [number[], number[]] = [[], []];
  for (let y = 0; y < height; y += FULL_SCREEN_SQUARE_PX) {
    for (let x = 0; x < width; x += FULL_SCREEN_SQUARE_PX) {
      squares[fullScreenColourAt(x, y, value)].push(
        x,
        y,
        Math.min(FULL_SCREEN_SQUARE_PX, width - x),
        Math.min(FULL_SCREEN_SQUARE_PX, height - y),
      );
    }
  }
  return squares;
}

/** The colour index (0 or 1) the pixel at (x, y) has while the counter shows `value`. */
export function fullScreenColourAt(x: number, y: number, value: number): 0 | 1 {
  return ((Math.floor(x / FULL_SCREEN_SQUARE_PX) + Math.floor(y / FULL_SCREEN_SQUARE_PX) + value) % 2) as
    | 0
    | 1;
}

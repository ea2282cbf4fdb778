import type { Page } from 'playwright-core';

/**
 * How many pixels of the operator's decoded picture (`canvas[data-testid=screen]`) lie within 48 of
 * each colour (per channel), and how many pixels there are in all.
 */
export async function colourCounts(page: Page, colours: Record<string, [number, number, number]>) {
  return page.evaluate((wanted) => {
    const canvas = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')!;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const counts: Record<string, number> = Object.fromEntries(Object.keys(wanted).map((k) => [k, 0]));
    for (let i = 0; i < data.length; i += 4) {
      for (const [name, [r, g, b]] of Object.entries(wanted)) {
        const close =
          Math.abs(data[i]! - r) <= 48 &&
          Math.abs(data[i + 1]! - g) <= 48 &&
          Math.abs(data[i + 2]! - b) <= 48;
        if (close) counts[name]! += 1;
      }
    }
    return { counts, total: data.length / 4 };
  }, colours);
}

/** The size of the operator's decoded picture, in pixels. */
export async function canvasSize(page: Page): Promise<[number, number]> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')!;
    return [canvas.width, canvas.height] as [number, number];
  });
}

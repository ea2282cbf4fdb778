import { runX } from './xvfb.ts';

// X windows as xdotool sees them: for tests that find a program's window on an Xvfb display.

/** Ids of the visible X windows whose title matches; none when xdotool finds none (it exits 1). */
export async function searchWindows(display: string, title: string): Promise<string[]> {
  const out = await runX('xdotool', ['search', '--onlyvisible', '--name', title], display).catch(() => '');
  return out.split('\n').filter(Boolean);
}

/** Every visible X window with its position and size, from xdotool. */
export async function visibleWindows(display: string) {
  const windows = [];
  for (const id of await searchWindows(display, '.*')) {
    const geometry = await geometryOf(display, id).catch(() => undefined);
    if (geometry) windows.push({ id, ...geometry });
  }
  return windows;
}

/** Position and size of one X window, from xdotool. */
export async function geometryOf(display: string, id: string) {
  const shell = await runX('xdotool', ['getwindowgeometry', '--shell', id], display);
  const value = (key: string) => Number(new RegExp(`^${key}=(\\d+)`, 'm').exec(shell)?.[1]);
  return { x: value('X'), y: value('Y'), width: value('WIDTH'), height: value('HEIGHT') };
}

/** Position and size of the first visible X window whose title matches, from xdotool. */
export async function windowGeometry(display: string, title: string) {
  const [id] = await searchWindows(display, title);
  return id ? geometryOf(display, id) : undefined;
}

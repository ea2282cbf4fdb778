import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import type { PictureTimings } from '../../console/app/media/video-timings.ts';
import type { BenchPage } from './in-page.ts';

const IN_PAGE = fileURLToPath(new URL('./in-page.ts', import.meta.url));

let bundle: Promise<string> | undefined;

/** `in-page.ts` bundled into one script, built once per run. */
function inPageScript(): Promise<string> {
  bundle ??= build({
    entryPoints: [IN_PAGE],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'chrome110',
    logLevel: 'silent',
  }).then((result) => {
    const file = result.outputFiles[0];
    if (!file) throw new Error('esbuild produced no in-page script');
    return file.text;
  });
  return bundle;
}

/** Per instrumented page: resolves when its first picture is drawn (see `firstPicture`). */
const firstDrawn = new WeakMap<Page, Promise<void>>();

/**
 * Installs the measurement script in `page` before any of the page's own scripts run. `watch` is the
 * CSS selector of the canvas that shows the remote screen.
 */
export async function instrument(page: Page, watch: string): Promise<void> {
  let drawn = () => {};
  firstDrawn.set(page, new Promise<void>((resolve) => (drawn = resolve)));
  await page.exposeBinding('benchFirstPicture', () => drawn());
  await page.addInitScript({
    content: `window.benchWatch = ${JSON.stringify(watch)};\n${await inPageScript()}`,
  });
}

/** A snapshot of the page's counters. */
export interface PageCounters {
  frames: number;
  bytes: number;
  keyframeBytes: number;
  changes: number;
  unreadable: number;
  value: number | undefined;
  /** Lifeline only: access units the console skipped to catch up (`lifelineStats.framesDropped`). */
  skipped: number;
}

export function readCounters(page: Page): Promise<PageCounters> {
  return page.evaluate(() => {
    const { frames, bytes, keyframeBytes, changes, unreadable, value } = window.benchPage;
    const stats = (window as { lifelineStats?: { framesDropped: number } }).lifelineStats;
    return { frames, bytes, keyframeBytes, changes, unreadable, value, skipped: stats?.framesDropped ?? 0 };
  });
}

/** Points the in-page counter reader at (x, y) of the remote screen, or stops it with `null`. */
export function readCounterAt(page: Page, x: number | null, y = 0): Promise<void> {
  return page.evaluate(([px, py]) => window.benchPage.read(px, py), [x, y] as const);
}

/** Lifeline's own per-picture latency (agent send stamp to drawn) since the reader was last pointed. */
export function sentToDrawn(page: Page): Promise<number[]> {
  return page.evaluate(() => window.benchPage.sentToDrawn);
}

/** The stages between the agent's send and the drawn picture, in ms, one entry per picture. */
export interface PictureStages {
  /** Agent send stamp → the unit reached the console's renderer (agent socket, relay, browser socket, main thread). */
  toConsole: number;
  /** Reached the renderer → `decode()` called. */
  toDecoder: number;
  /** `decode()` → the decoder's output callback. */
  decoding: number;
  /** Output callback → RGBA pixels ready in the console's video worker (0 where the page decodes). */
  converting: number;
  /** Converted → `drawImage` / `putImageData` returned on the page (includes the wait for the page and its counter read-back). */
  drawing: number;
  keyframe: boolean;
}

/**
 * Lifeline only: the stage stamps of the pictures drawn since the last call (the console's
 * `window.lifelineVideoTimings` ring, console/app/media/video-timings.ts).
 */
export function pictureStages(page: Page): Promise<PictureStages[]> {
  return page.evaluate(() =>
    (window.lifelineVideoTimings?.take() ?? []).map((p) => ({
      toConsole: p.received - p.sent,
      toDecoder: p.decodeCalled - p.received,
      decoding: p.output - p.decodeCalled,
      converting: p.converted - p.output,
      drawing: p.drawn - p.converted,
      keyframe: p.keyframe,
    })),
  );
}

/**
 * Lifeline only: the console's stage stamps of the pictures drawn since the last call, as they are
 * (`pictureStages` gives their differences). Empty on the VNC page.
 */
export function pictureTimings(page: Page): Promise<PictureTimings[]> {
  return page.evaluate(() => window.lifelineVideoTimings?.take() ?? []);
}

/** The counter changes seen so far, as [value, epoch ms]. */
export function changeLog(page: Page): Promise<Array<[number, number]>> {
  return page.evaluate(() => window.benchPage.log);
}

export type { BenchPage };

/** A joining viewer's first picture, in ms from its stream's WebSocket opening (the page's clock). */
export interface FirstPicture {
  /** Until the first picture was drawn. */
  drawnMs: number;
  /** Lifeline only: until the first video unit arrived (the rest is decoding and drawing). */
  videoMs: number | undefined;
}

/**
 * Waits for the first picture on a freshly opened viewer page and says when it came. The page tells
 * (a binding called from its first picture drawn) rather than being polled: `waitForFunction` injects
 * Playwright's script into the page and runs a predicate on every animation frame, main-thread work
 * that delayed the very messages and pictures being timed (about 300 ms on a loaded machine).
 */
export async function firstPicture(page: Page, timeoutMs: number): Promise<FirstPicture> {
  const drawn = firstDrawn.get(page);
  if (!drawn) throw new Error('firstPicture needs a page set up by instrument()');
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    drawn,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no picture within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  const { socketOpenedAt, firstVideoAt, firstFrameAt } = await page.evaluate(() => ({
    socketOpenedAt: window.benchPage.socketOpenedAt,
    firstVideoAt: window.benchPage.firstVideoAt,
    firstFrameAt: window.benchPage.firstFrameAt,
  }));
  if (socketOpenedAt === undefined || firstFrameAt === undefined)
    throw new Error('the page opened no socket');
  return {
    drawnMs: firstFrameAt - socketOpenedAt,
    videoMs: firstVideoAt === undefined ? undefined : firstVideoAt - socketOpenedAt,
  };
}

/**
 * A second viewer's first picture: a new page of `context`, instrumented to watch the canvas at
 * `watch`, opened by `open`, timed as `firstPicture` times it, then closed.
 */
export async function joinInNewPage(
  context: BrowserContext,
  watch: string,
  open: (page: Page) => Promise<void>,
  timeoutMs: number,
): Promise<FirstPicture> {
  const page = await context.newPage();
  try {
    await instrument(page, watch);
    await open(page);
    return await firstPicture(page, timeoutMs);
  } finally {
    await page.close();
  }
}

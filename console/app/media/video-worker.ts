import { type DecoderCounts, PictureDecoder, zeroCounts } from './picture-decoder.ts';
import { epochNow, type PictureTimings } from './video-timings.ts';
import type { FromVideoWorker, ToVideoWorker } from './video-worker-messages.ts';

/**
 * The console's video worker (bundled on its own, served at VIDEO_WORKER_PATH): decodes the access
 * units the page posts and converts each picture from YUV to RGBA pixels here, off the page's main
 * thread, so the page only puts them onto the visible canvas (`putImageData`, under a millisecond at
 * 1080p). The conversion is `VideoFrame.copyTo({ format: 'RGBA' })` into a buffer that travels to the
 * page and back (transferred, never copied), about half the cost of drawing the picture on an
 * `OffscreenCanvas` (README "Where agent send → drawn goes"); where the browser cannot convert in
 * `copyTo`, the worker draws and posts an `ImageBitmap` instead. At most one picture is on its way to
 * the page: until the page says it drew it, a newer picture waits here and replaces (and closes) any
 * older one still waiting, so neither side ever queues stale pictures.
 */

// The DOM lib has no dedicated worker types (they are in the WebWorker lib, which clashes with DOM).
interface WorkerScope {
  addEventListener(type: 'message', listener: (event: MessageEvent<ToVideoWorker>) => void): void;
  postMessage(message: FromVideoWorker, transfer?: Transferable[]): void;
}

/** Pixel buffers kept for reuse: one on the page, one being filled, one spare. */
const POOL_SIZE = 3;

const scope = globalThis as unknown as WorkerScope;
const counts = zeroCounts();
let generation = 0;
/** A picture is being converted or posted, and the page has not yet said it drew it. */
let inFlight = false;
/** The newest picture decoded while one was in flight. */
let waiting: { picture: VideoFrame; timings: PictureTimings | undefined } | undefined;
/** Buffers the page handed back, for the next pictures of the same size. */
const pool: ArrayBuffer[] = [];
/** False once `copyTo` with a pixel format failed here: the worker then posts `ImageBitmap`s. */
let copyToRgba = true;
let canvas: OffscreenCanvas | undefined;
let context: OffscreenCanvasRenderingContext2D | null = null;

const decoder = new PictureDecoder(
  {
    onPicture(picture, timings) {
      if (!inFlight) {
        post(picture, timings);
        return;
      }
      if (waiting) {
        waiting.picture.close();
        counts.picturesSkipped++;
      }
      waiting = { picture, timings };
    },
    requestKeyframe() {
      scope.postMessage({ type: 'request-keyframe', counts: takeCounts() });
    },
    onUnsupported(message) {
      scope.postMessage({ type: 'unsupported', generation, message, counts: takeCounts() });
    },
  },
  counts,
);

/** The counts since the last message, which the page adds to its stats. */
function takeCounts(): DecoderCounts {
  const taken = { ...counts };
  Object.assign(counts, zeroCounts());
  return taken;
}

/** Converts `picture` to RGB and posts it to the page; closes `picture`. */
function post(picture: VideoFrame, timings: PictureTimings | undefined): void {
  inFlight = true;
  if (copyToRgba) void postPixels(picture, timings);
  else postBitmap(picture, timings);
}

/** Converts `picture` to RGBA pixels in a pooled buffer and posts them; closes `picture`. */
async function postPixels(picture: VideoFrame, timings: PictureTimings | undefined): Promise<void> {
  const postedFor = generation;
  // copyTo converts the visible rectangle (the display size for the agent's square pixels).
  const width = picture.visibleRect?.width ?? picture.displayWidth;
  const height = picture.visibleRect?.height ?? picture.displayHeight;
  const size = width * height * 4;
  let pixels = pool.pop();
  while (pixels && pixels.byteLength !== size) pixels = pool.pop();
  pixels ??= new ArrayBuffer(size);
  try {
    await picture.copyTo(pixels, { format: 'RGBA', colorSpace: 'srgb' });
  } catch (error) {
    if (postedFor !== generation) {
      picture.close();
      return;
    }
    console.warn('lifeline: VideoFrame.copyTo(RGBA) failed; converting on an OffscreenCanvas', error);
    copyToRgba = false;
    postBitmap(picture, timings);
    return;
  }
  picture.close();
  // A stream closed while converting: its picture is not posted, and `inFlight` belongs to the new one.
  if (postedFor !== generation) {
    pool.push(pixels);
    return;
  }
  if (timings) timings.converted = epochNow();
  scope.postMessage({ type: 'pixels', generation, pixels, width, height, timings, counts: takeCounts() }, [
    pixels,
  ]);
}

/** Converts `picture` to an `ImageBitmap` on an `OffscreenCanvas` and posts it; closes `picture`. */
function postBitmap(picture: VideoFrame, timings: PictureTimings | undefined): void {
  try {
    const { displayWidth: width, displayHeight: height } = picture;
    if (!canvas || canvas.width !== width || canvas.height !== height) {
      canvas = new OffscreenCanvas(width, height);
      context = canvas.getContext('2d', { alpha: false });
    }
    if (!context) throw new Error('OffscreenCanvas has no 2D context');
    context.drawImage(picture, 0, 0);
    const bitmap = canvas.transferToImageBitmap();
    if (timings) timings.converted = epochNow();
    scope.postMessage({ type: 'picture', generation, bitmap, timings, counts: takeCounts() }, [bitmap]);
  } finally {
    picture.close();
  }
}

function dropWaiting(): void {
  waiting?.picture.close();
  waiting = undefined;
  inFlight = false;
}

scope.addEventListener('message', ({ data: message }) => {
  switch (message.type) {
    case 'configure':
      generation = message.generation;
      dropWaiting();
      decoder.configure(message.codec);
      return;
    case 'unit': {
      if (message.generation !== generation) return;
      const dropped = counts.framesDropped;
      decoder.decode(message.unit);
      // A unit dropped while waiting for a keyframe brings no picture to carry the count.
      if (counts.framesDropped !== dropped) scope.postMessage({ type: 'counts', counts: takeCounts() });
      return;
    }
    case 'drawn': {
      if (message.pixels && pool.length < POOL_SIZE) pool.push(message.pixels);
      if (message.generation !== generation) return;
      inFlight = false;
      const next = waiting;
      waiting = undefined;
      if (next) post(next.picture, next.timings);
      return;
    }
    case 'close':
      generation = message.generation;
      dropWaiting();
      decoder.close();
      return;
  }
});

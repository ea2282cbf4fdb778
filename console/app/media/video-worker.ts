import { type DecoderCounts, PictureDecoder, zeroCounts } from './picture-decoder.ts';
import { epochNow, type PictureTimings } from './video-timings.ts';
import type { FromVideoWorker, ToVideoWorker } from './video-worker-messages.ts';

/**
 * The console's video worker (bundled on its own, served at VIDEO_WORKER_PATH): decodes the access
 * units the page posts and converts each picture from YUV to an RGB `ImageBitmap` here, off the
 * page's main thread, so the page only blits it onto the visible canvas. At most one picture is on
 * its way to the page: until the page says it drew it, a newer picture waits here and replaces (and
 * closes) any older one still waiting, so neither side ever queues stale pictures.
 */

// The DOM lib has no dedicated worker types (they are in the WebWorker lib, which clashes with DOM).
interface WorkerScope {
  addEventListener(type: 'message', listener: (event: MessageEvent<ToVideoWorker>) => void): void;
  postMessage(message: FromVideoWorker, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;
const counts = zeroCounts();
let generation = 0;
/** A picture is posted and the page has not yet said it drew it. */
let inFlight = false;
/** The newest picture decoded while one was in flight. */
let waiting: { picture: VideoFrame; timings: PictureTimings | undefined } | undefined;
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

/** Converts `picture` to an `ImageBitmap` and posts it to the page; closes `picture`. */
function post(picture: VideoFrame, timings: PictureTimings | undefined): void {
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
    inFlight = true;
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

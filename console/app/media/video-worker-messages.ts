import type { DecoderCounts, EncodedUnit } from './picture-decoder.ts';
import type { PictureTimings } from './video-timings.ts';

/** Where the server serves the video worker (build/console/bundle.ts bundles it on its own). */
export const VIDEO_WORKER_PATH = '/assets/video-worker.js';

/**
 * What the page posts to the video worker. `generation` grows with each `configure` and `close`,
 * so neither side acts on a message meant for a stream that is gone.
 */
export type ToVideoWorker =
  | { type: 'configure'; generation: number; codec: string }
  /** `unit.data` owns its buffer, which is transferred. */
  | { type: 'unit'; generation: number; unit: EncodedUnit }
  /**
   * The last picture posted is on the canvas (or was dropped): the worker may post the next.
   * `pixels` hands back a `pixels` message's buffer (transferred) for the worker to fill again.
   */
  | { type: 'drawn'; generation: number; pixels?: ArrayBuffer }
  | { type: 'close'; generation: number };

/**
 * What the video worker posts to the page. Each message carries the decoder counts since the
 * previous one, which the page adds to `LifelineStats`.
 */
export type FromVideoWorker =
  | {
      type: 'picture';
      generation: number;
      /**
       * The picture, converted to RGB in the worker (transferred; the page closes it): only where the
       * browser cannot convert in `VideoFrame.copyTo` (otherwise `pixels`).
       */
      bitmap: ImageBitmap;
      timings: PictureTimings | undefined;
      counts: DecoderCounts;
    }
  | {
      type: 'pixels';
      generation: number;
      /** The picture as RGBA rows, `width × height × 4` bytes (transferred; the page sends it back with `drawn`). */
      pixels: ArrayBuffer;
      width: number;
      height: number;
      timings: PictureTimings | undefined;
      counts: DecoderCounts;
    }
  | { type: 'counts'; counts: DecoderCounts }
  | { type: 'request-keyframe'; counts: DecoderCounts }
  | { type: 'unsupported'; generation: number; message: string; counts: DecoderCounts };

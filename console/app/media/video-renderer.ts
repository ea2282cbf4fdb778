import type { VideoFrame as AccessUnit, MessageOf } from '../../../protocol/index.ts';
import { type DecoderCounts, type EncodedUnit, PictureDecoder } from './picture-decoder.ts';
import { SchedulingLag, tickEvery } from './scheduling-lag.ts';
import type { LifelineStats } from './stats.ts';
import { type VideoPath, VideoPathChooser } from './video-path.ts';
import { epochNow, type PictureTimings, VideoTimings } from './video-timings.ts';
import { type FromVideoWorker, type ToVideoWorker, VIDEO_WORKER_PATH } from './video-worker-messages.ts';

export type VideoConfig = Omit<MessageOf<'video-config'>, 'type'>;

export interface VideoRendererHooks {
  /** Ask the agent for a keyframe (`request-keyframe`). */
  requestKeyframe(): void;
  /** The first picture of this configuration is on the canvas. */
  onPicture(): void;
  /** The browser cannot decode this stream at all; resetting will not help. */
  onUnsupported(message: string): void;
}

/**
 * Shows the agent's H.264 access units on a canvas whose internal size is the screen's (the video
 * config's; a smaller picture is scaled up) ({@link PictureDecoder} decodes). While the page keeps up it decodes and draws each picture
 * itself, the lowest latency here; when it falls behind (its main thread busy drawing or with other
 * long tasks, pictures skipped) or its pictures cost more to draw than the worker's (see
 * {@link VideoPathChooser}) decoding and the YUV→RGB conversion
 * move to a worker (console/app/media/video-worker.ts), the page then only puts finished RGBA pixels
 * onto the canvas, and move back once the page is quiet again. Each move starts the stream again at
 * a keyframe (`requestKeyframe`). Without `Worker` or `OffscreenCanvas`, or when the worker script
 * fails, the page decodes. Every picture shown is one `drawImage` or `putImageData` onto the visible
 * 2D canvas, which is what the tests and the benchmark read back.
 */
export class VideoRenderer {
  readonly #canvas: HTMLCanvasElement;
  readonly #context: CanvasRenderingContext2D | null;
  readonly #stats: LifelineStats;
  readonly #hooks: VideoRendererHooks;
  #config: VideoConfig | undefined;
  /** Where pictures are decoded now. */
  #path: VideoPath;
  /** Chooses the path while both are possible; none once the page is the only one. */
  #chooser: VideoPathChooser | undefined;
  #longTasks: PerformanceObserver | undefined;
  /** How late the page runs what is due (a machine short of CPU), while the chooser exists. */
  #lag: SchedulingLag | undefined;
  #stopTicking: (() => void) | undefined;
  #worker: Worker | undefined;
  /** Grows with each configuration, move and close; the worker's messages for an older one are ignored. */
  #generation = 0;
  /** The page's own decoder. */
  #decoder: PictureDecoder | undefined;
  /** `stats.picturesSkipped` at the last picture drawn, for the skips since. */
  #skippedBefore = 0;
  /** Each drawn picture's stage stamps, for the benchmark (see `VideoTimings`). */
  readonly timings = new VideoTimings().publish();
  #hasPicture = false;
  /** For the worker's pixels when the canvas is not the picture's size. */
  #scratch: HTMLCanvasElement | undefined;

  constructor(canvas: HTMLCanvasElement, stats: LifelineStats, hooks: VideoRendererHooks) {
    this.#canvas = canvas;
    // `desynchronized` asks for the low-latency path (drawing straight to the front buffer where the
    // GPU compositor supports it); where it does not (software compositing), it changes nothing.
    this.#context = canvas.getContext('2d', { alpha: false, desynchronized: true });
    this.#stats = stats;
    this.#hooks = hooks;
    const workerPossible = typeof Worker !== 'undefined' && typeof OffscreenCanvas !== 'undefined';
    const pinned = window.lifelineVideoPathPinned;
    this.#path = workerPossible && pinned === 'worker' ? 'worker' : 'main thread';
    if (workerPossible && pinned === undefined) {
      this.#chooser = new VideoPathChooser(this.#path);
      this.#watchLongTasks();
      this.#watchLag();
    }
  }

  /**
   * Whether the console fell behind the pictures in its last measured second (see
   * {@link VideoPathChooser.behind}) or is starved of CPU (its tasks run late: {@link SchedulingLag});
   * undefined where the path is pinned or the page is the only one.
   */
  get behind(): boolean | undefined {
    if (!this.#chooser) return undefined;
    return this.#chooser.behind || this.#lag?.behind === true;
  }

  /** Whether a picture has been drawn since the last configuration. */
  get hasPicture(): boolean {
    return this.#hasPicture;
  }

  /** (Re)configures the decoder for a new stream; the next decodable unit must be a keyframe. */
  configure(config: VideoConfig): void {
    if (typeof VideoDecoder === 'undefined') {
      this.#hooks.onUnsupported(webCodecsMissing());
      return;
    }
    this.#config = config;
    this.#resize(config.width, config.height);
    this.#hasPicture = false;
    this.#start(config);
  }

  /** Feeds one access unit from the relay. */
  push(unit: AccessUnit): void {
    const received = epochNow();
    this.#stats.framesReceived++;
    this.#stats.bytesReceived += unit.data.byteLength;
    if (unit.keyframe) this.#stats.keyframes++;
    if (!this.#config) return;
    const { sequence, keyframe, captureTime } = unit;
    if (this.#path === 'worker' && this.#worker) {
      // A copy that owns its buffer, so it moves to the worker without copying the whole message.
      const data = unit.data.slice();
      const encoded: EncodedUnit = { sequence, keyframe, captureTime, received, data };
      this.#send({ type: 'unit', generation: this.#generation, unit: encoded }, [data.buffer]);
      return;
    }
    this.#decoder?.decode({ sequence, keyframe, captureTime, received, data: unit.data });
  }

  /** Stops decoding and frees the decoder; the last picture stays on the canvas. */
  close(): void {
    this.#config = undefined;
    this.#generation++;
    if (this.#worker) this.#send({ type: 'close', generation: this.#generation });
    this.#decoder?.close();
  }

  /** Closes and ends the video worker, for good. */
  dispose(): void {
    this.close();
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#longTasks?.disconnect();
    this.#stopTicking?.();
  }

  /** Starts decoding `config` on the current path, from its next keyframe. */
  #start(config: VideoConfig): void {
    this.#generation++;
    this.#skippedBefore = this.#stats.picturesSkipped;
    if (this.#path === 'worker') {
      this.#decoder?.close();
      const worker = this.#worker ?? this.#startWorker();
      if (worker) {
        window.lifelineVideoPath = 'worker';
        this.#send({ type: 'configure', generation: this.#generation, codec: config.codec });
        return;
      }
      this.#onlyPage();
    }
    if (this.#worker) this.#send({ type: 'close', generation: this.#generation });
    window.lifelineVideoPath = 'main thread';
    this.#decoder ??= this.#pageDecoder();
    this.#decoder.configure(config.codec);
  }

  /** Moves decoding to `path` after the current picture; the stream restarts at a keyframe. */
  #move(path: VideoPath): void {
    queueMicrotask(() => {
      const config = this.#config;
      if (path === this.#path || !config) return;
      this.#path = path;
      this.#start(config);
      this.#hooks.requestKeyframe();
    });
  }

  /** From now on the page decodes: the worker is not possible here or failed. */
  #onlyPage(): void {
    this.#path = 'main thread';
    this.#chooser = undefined;
    this.#longTasks?.disconnect();
    this.#stopTicking?.();
    this.#lag = undefined;
  }

  #watchLongTasks(): void {
    // Other work on the page's main thread (the console's own, or anything else in the tab) delays
    // the pictures drawn there as much as drawing them does.
    if (!PerformanceObserver.supportedEntryTypes?.includes('longtask')) return;
    this.#longTasks = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        this.#chooser?.longTask(entry.duration);
        this.#lag?.longTask(entry.duration);
      }
    });
    this.#longTasks.observe({ type: 'longtask' });
  }

  #watchLag(): void {
    const lag = new SchedulingLag((meanMs, behind) => {
      this.#stats.schedulingLagMs = Math.round(meanMs);
      if (behind) this.#stats.secondsStarved++;
    });
    this.#lag = lag;
    this.#stopTicking = tickEvery(lag);
  }

  #startWorker(): Worker | undefined {
    let worker: Worker;
    try {
      worker = new Worker(VIDEO_WORKER_PATH, { name: 'lifeline-video' });
    } catch {
      return undefined;
    }
    worker.addEventListener('message', (event: MessageEvent<FromVideoWorker>) =>
      this.#fromWorker(event.data),
    );
    worker.addEventListener('error', (event) => {
      // The script did not load (an older server, a proxy) or failed: decode on the page instead.
      event.preventDefault();
      if (worker !== this.#worker) return;
      console.warn('lifeline: video worker failed; decoding on the page', event.message);
      this.#worker = undefined;
      worker.terminate();
      this.#onlyPage();
      const config = this.#config;
      window.lifelineVideoPath = 'main thread';
      if (!config) return;
      this.#start(config);
      this.#hooks.requestKeyframe();
    });
    this.#worker = worker;
    return worker;
  }

  #pageDecoder(): PictureDecoder {
    // The page's decoder counts straight into the stats, which have the same fields.
    return new PictureDecoder(
      {
        onPicture: (picture, timings) => {
          try {
            if (timings) timings.converted = timings.output;
            this.#draw(picture, picture.displayWidth, picture.displayHeight, timings);
          } finally {
            picture.close();
          }
        },
        requestKeyframe: () => this.#hooks.requestKeyframe(),
        onUnsupported: (message) => this.#hooks.onUnsupported(message),
      },
      this.#stats,
    );
  }

  #send(message: ToVideoWorker, transfer: Transferable[] = []): void {
    this.#worker?.postMessage(message, transfer);
  }

  #fromWorker(message: FromVideoWorker): void {
    this.#count(message.counts);
    switch (message.type) {
      case 'picture': {
        const { bitmap, generation, timings } = message;
        try {
          // A picture of a stream closed since: not shown, and the worker has moved on already.
          if (generation !== this.#generation) return;
          this.#draw(bitmap, bitmap.width, bitmap.height, timings);
        } finally {
          bitmap.close();
        }
        this.#send({ type: 'drawn', generation });
        return;
      }
      case 'pixels': {
        const { pixels, width, height, generation, timings } = message;
        if (generation === this.#generation) this.#put(pixels, width, height, timings);
        // Back to the worker, for the next picture's pixels.
        this.#send({ type: 'drawn', generation, pixels }, [pixels]);
        return;
      }
      case 'request-keyframe':
        this.#hooks.requestKeyframe();
        return;
      case 'unsupported':
        if (message.generation === this.#generation) this.#hooks.onUnsupported(message.message);
        return;
      case 'counts':
        return;
    }
  }

  #count(counts: DecoderCounts): void {
    this.#stats.framesDecoded += counts.framesDecoded;
    this.#stats.framesDropped += counts.framesDropped;
    this.#stats.decoderErrors += counts.decoderErrors;
    this.#stats.picturesSkipped += counts.picturesSkipped;
  }

  #draw(
    picture: CanvasImageSource,
    width: number,
    height: number,
    timings: PictureTimings | undefined,
  ): void {
    // The canvas keeps the screen's size (input maps onto it): a smaller picture (the agent's video
    // mode, half each side while the screen is in full motion) is drawn scaled up.
    this.#resize(this.#config?.width ?? width, this.#config?.height ?? height);
    this.#showPictureSize(width, height);
    const started = epochNow();
    this.#context?.drawImage(picture, 0, 0, this.#canvas.width, this.#canvas.height);
    this.#shown(started, timings);
  }

  /** Puts the worker's RGBA `pixels` (`width × height`) onto the canvas. */
  #put(pixels: ArrayBuffer, width: number, height: number, timings: PictureTimings | undefined): void {
    // As in #draw: the canvas keeps the screen's size, a video-mode picture is scaled up.
    this.#resize(this.#config?.width ?? width, this.#config?.height ?? height);
    this.#showPictureSize(width, height);
    const started = epochNow();
    const image = new ImageData(new Uint8ClampedArray(pixels), width, height);
    if (this.#canvas.width === width && this.#canvas.height === height) {
      this.#context?.putImageData(image, 0, 0);
    } else {
      // putImageData does not scale: a canvas of another size gets the picture through a scratch canvas.
      this.#scratch ??= document.createElement('canvas');
      if (this.#scratch.width !== width) this.#scratch.width = width;
      if (this.#scratch.height !== height) this.#scratch.height = height;
      this.#scratch.getContext('2d', { alpha: false })?.putImageData(image, 0, 0);
      this.#context?.drawImage(this.#scratch, 0, 0, this.#canvas.width, this.#canvas.height);
    }
    this.#shown(started, timings);
  }

  /** Bookkeeping for a picture shown since `started`: stats, stage stamps, the path chooser. */
  #shown(started: number, timings: PictureTimings | undefined): void {
    const now = epochNow();
    this.#stats.lastFrameAt = Math.round(now);
    if (timings) {
      timings.drawn = now;
      this.#stats.lastLatencyMs = now - timings.sent;
      this.timings.add(timings);
    }
    if (!this.#hasPicture) {
      this.#hasPicture = true;
      this.#hooks.onPicture();
    }
    const chooser = this.#chooser;
    if (!chooser) return;
    chooser.drawn(now, now - started, this.#stats.picturesSkipped - this.#skippedBefore);
    this.#skippedBefore = this.#stats.picturesSkipped;
    const path = chooser.next(now);
    if (path !== this.#path) this.#move(path);
  }

  /** The decoded picture's size, for tests and the curious (`data-picture-size`, e.g. `960x540`). */
  #showPictureSize(width: number, height: number): void {
    const size = `${width}x${height}`;
    if (this.#canvas.dataset['pictureSize'] !== size) this.#canvas.dataset['pictureSize'] = size;
  }

  #resize(width: number, height: number): void {
    // Assigning the size clears the canvas, so only do it when it changes.
    if (this.#canvas.width !== width) this.#canvas.width = width;
    if (this.#canvas.height !== height) this.#canvas.height = height;
  }
}

/**
 * Why the video cannot be decoded, saying what to do: browsers give WebCodecs only to secure contexts
 * (https://, or http://localhost on the server's own machine).
 */
export function webCodecsMissing(): string {
  if (globalThis.isSecureContext === false) {
    const { host, port, pathname } = globalThis.location;
    const localhost = `http://localhost${port ? `:${port}` : ''}${pathname}`;
    return `This page was opened over plain http from another machine, and browsers decode video only on secure pages. Open https://${host}${pathname} instead (start the control plane with LIFELINE_TLS=self-signed, or behind an HTTPS proxy), or open ${localhost} on the machine that runs the control plane.`;
  }
  return 'This browser cannot decode the video (WebCodecs is missing). Use a current Chrome, Edge or Firefox.';
}

import type { VideoFrame as AccessUnit, MessageOf } from '../../../protocol/index.ts';
import type { LifelineStats } from './stats.ts';
import { epochNow, type PictureTimings, VideoTimings } from './video-timings.ts';

export type VideoConfig = Omit<MessageOf<'video-config'>, 'type'>;

/** At most one keyframe request per this many ms, so a burst of deltas does not flood the agent. */
const KEYFRAME_REQUEST_INTERVAL_MS = 1000;
/**
 * Access units waiting in the decoder beyond which the console skips to the next keyframe. Above the
 * 60 units the agent replays at once when a viewer starts over (its group of pictures), so a replay
 * is decoded rather than taken for a backlog; pictures behind a queue are decoded but not drawn.
 */
const MAX_DECODE_QUEUE = 90;
const SEQUENCE_RANGE = 2 ** 32;

export interface VideoRendererHooks {
  /** Ask the agent for a keyframe (`request-keyframe`). */
  requestKeyframe(): void;
  /** The first picture of this configuration is on the canvas. */
  onPicture(): void;
  /** The browser cannot decode this stream at all; resetting will not help. */
  onUnsupported(message: string): void;
}

/**
 * Decodes the agent's H.264 access units with WebCodecs and draws each picture to a canvas whose
 * internal size is the video's, except a picture with a newer unit already waiting to be decoded.
 * Deltas are only decoded after a keyframe; a decoder error resets the decoder and asks for a new
 * keyframe.
 */
export class VideoRenderer {
  readonly #canvas: HTMLCanvasElement;
  readonly #context: CanvasRenderingContext2D | null;
  readonly #stats: LifelineStats;
  readonly #hooks: VideoRendererHooks;
  #config: VideoConfig | undefined;
  #decoder: VideoDecoder | undefined;
  #awaitingKeyframe = true;
  #lastKeyframeRequest = Number.NEGATIVE_INFINITY;
  #wraps = 0;
  #lastSequence: number | undefined;
  /** Units given to the decoder, by timestamp, with their stamps so far. */
  #pending = new Map<number, PictureTimings>();
  /** Each drawn picture's stage stamps, for the benchmark (see `VideoTimings`). */
  readonly timings = new VideoTimings().publish();
  #hasPicture = false;

  constructor(canvas: HTMLCanvasElement, stats: LifelineStats, hooks: VideoRendererHooks) {
    this.#canvas = canvas;
    this.#context = canvas.getContext('2d', { alpha: false });
    this.#stats = stats;
    this.#hooks = hooks;
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
    this.#lastSequence = undefined;
    this.#wraps = 0;
    this.#startDecoder();
  }

  /** Feeds one access unit from the relay. */
  push(unit: AccessUnit): void {
    const received = epochNow();
    this.#stats.framesReceived++;
    this.#stats.bytesReceived += unit.data.byteLength;
    if (unit.keyframe) this.#stats.keyframes++;
    const decoder = this.#decoder;
    if (decoder?.state !== 'configured') return;
    if (!unit.keyframe && decoder.decodeQueueSize > MAX_DECODE_QUEUE) {
      // The decoder cannot keep up: skip ahead rather than show ever older pictures.
      this.#awaitingKeyframe = true;
    }
    if (this.#awaitingKeyframe && !unit.keyframe) {
      this.#stats.framesDropped++;
      this.#requestKeyframe();
      return;
    }
    this.#awaitingKeyframe = false;
    const timestamp = this.#timestamp(unit.sequence);
    const picture: PictureTimings = {
      sequence: unit.sequence,
      keyframe: unit.keyframe,
      sent: unit.captureTime,
      received,
      decodeCalled: epochNow(),
      output: 0,
      drawn: 0,
    };
    this.#pending.set(timestamp, picture);
    try {
      decoder.decode(
        new EncodedVideoChunk({ type: unit.keyframe ? 'key' : 'delta', timestamp, data: unit.data }),
      );
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Stops decoding and frees the decoder; the last picture stays on the canvas. */
  close(): void {
    const decoder = this.#decoder;
    this.#decoder = undefined;
    this.#pending.clear();
    if (decoder && decoder.state !== 'closed') decoder.close();
  }

  #startDecoder(): void {
    this.close();
    const config = this.#config;
    if (!config) return;
    this.#awaitingKeyframe = true;
    const decoder = new VideoDecoder({
      output: (picture) => this.#draw(decoder, picture),
      error: (error) => this.#fail(error, decoder),
    });
    this.#decoder = decoder;
    try {
      // No `description`: the decoder then expects Annex B with SPS/PPS in each keyframe.
      decoder.configure({
        codec: config.codec,
        optimizeForLatency: true,
        hardwareAcceleration: 'no-preference',
      });
    } catch (error) {
      // configure() throws only for a configuration it can never accept: resetting would loop.
      this.close();
      this.#stats.decoderErrors++;
      this.#hooks.onUnsupported(`This browser cannot decode the ${config.codec} stream (${String(error)}).`);
    }
  }

  #draw(decoder: VideoDecoder, picture: globalThis.VideoFrame): void {
    try {
      if (decoder !== this.#decoder) return;
      const timings = this.#pending.get(picture.timestamp);
      this.#pending.delete(picture.timestamp);
      if (timings) timings.output = epochNow();
      this.#stats.framesDecoded++;
      if (decoder.decodeQueueSize > 0) {
        // A newer unit waits to be decoded (a backlog, or the agent replaying from a keyframe so a
        // new viewer can start): this picture would be overdrawn before anyone saw it.
        this.#stats.picturesSkipped++;
        return;
      }
      this.#resize(picture.displayWidth, picture.displayHeight);
      this.#context?.drawImage(picture, 0, 0, this.#canvas.width, this.#canvas.height);
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
    } finally {
      picture.close();
    }
  }

  #fail(error: unknown, decoder = this.#decoder): void {
    if (decoder !== this.#decoder) return;
    this.#stats.decoderErrors++;
    if (error instanceof DOMException && error.name === 'NotSupportedError') {
      this.close();
      this.#hooks.onUnsupported(`This browser cannot decode the ${this.#config?.codec ?? 'video'} stream.`);
      return;
    }
    console.warn('lifeline: video decoder reset after an error', error);
    this.#startDecoder();
    this.#requestKeyframe(true);
  }

  #requestKeyframe(force = false): void {
    const now = performance.now();
    if (!force && now - this.#lastKeyframeRequest < KEYFRAME_REQUEST_INTERVAL_MS) return;
    this.#lastKeyframeRequest = now;
    this.#hooks.requestKeyframe();
  }

  /** Sequence numbers wrap at 2^32; timestamps (µs) must keep growing. */
  #timestamp(sequence: number): number {
    if (this.#lastSequence !== undefined && sequence < this.#lastSequence - SEQUENCE_RANGE / 2) this.#wraps++;
    this.#lastSequence = sequence;
    return (this.#wraps * SEQUENCE_RANGE + sequence) * 1000;
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

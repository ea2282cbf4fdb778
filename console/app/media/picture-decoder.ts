import { epochNow, type PictureTimings } from './video-timings.ts';

/** At most one keyframe request per this many ms, so a burst of deltas does not flood the agent. */
const KEYFRAME_REQUEST_INTERVAL_MS = 1000;
/**
 * Access units waiting in the decoder beyond which the console skips to the next keyframe. Above the
 * 60 units the agent replays at once when a viewer starts over (its group of pictures), so a replay
 * is decoded rather than taken for a backlog; pictures behind a queue are decoded but not drawn.
 */
const MAX_DECODE_QUEUE = 90;
const SEQUENCE_RANGE = 2 ** 32;

/** One access unit on its way to the decoder, with the stamp of its arrival at the console. */
export interface EncodedUnit {
  sequence: number;
  keyframe: boolean;
  /** The agent's send stamp (the frame header's capture time), ms since the Unix epoch. */
  captureTime: number;
  /** When the unit reached the renderer from the relay socket, ms since the Unix epoch. */
  received: number;
  data: Uint8Array;
}

/** The decoder's share of `LifelineStats`; where it decodes in a worker, the page adds them up. */
export interface DecoderCounts {
  framesDecoded: number;
  framesDropped: number;
  decoderErrors: number;
  picturesSkipped: number;
}

export interface PictureDecoderHooks {
  /** A decoded picture to show; the hook owns it and must close it. */
  onPicture(picture: VideoFrame, timings: PictureTimings | undefined): void;
  /** Ask the agent for a keyframe (already rate-limited here). */
  requestKeyframe(): void;
  /** The browser cannot decode this stream at all; resetting will not help. */
  onUnsupported(message: string): void;
}

/** Fresh decoder counts, all zero. */
export function zeroCounts(): DecoderCounts {
  return { framesDecoded: 0, framesDropped: 0, decoderErrors: 0, picturesSkipped: 0 };
}

/**
 * WebCodecs decoding of the agent's H.264 access units, with no drawing: the same code runs in the
 * console's video worker (console/app/media/video-worker.ts) and, where a worker cannot decode, on
 * the page. Deltas are only decoded after a keyframe; a decoder error resets the decoder and asks
 * for a new keyframe; a picture with a newer unit already waiting to be decoded is skipped.
 */
export class PictureDecoder {
  readonly #hooks: PictureDecoderHooks;
  readonly counts: DecoderCounts;
  #codec: string | undefined;
  #decoder: VideoDecoder | undefined;
  #awaitingKeyframe = true;
  #lastKeyframeRequest = Number.NEGATIVE_INFINITY;
  #wraps = 0;
  #lastSequence: number | undefined;
  /** Units given to the decoder, by timestamp, with their stamps so far. */
  #pending = new Map<number, PictureTimings>();

  constructor(hooks: PictureDecoderHooks, counts: DecoderCounts = zeroCounts()) {
    this.#hooks = hooks;
    this.counts = counts;
  }

  /** (Re)configures the decoder for a new stream; the next decodable unit must be a keyframe. */
  configure(codec: string): void {
    this.#codec = codec;
    this.#lastSequence = undefined;
    this.#wraps = 0;
    this.#startDecoder();
  }

  /** Decodes one access unit, or drops it (counted) while waiting for a keyframe. */
  decode(unit: EncodedUnit): void {
    const decoder = this.#decoder;
    if (decoder?.state !== 'configured') return;
    if (!unit.keyframe && decoder.decodeQueueSize > MAX_DECODE_QUEUE) {
      // The decoder cannot keep up: skip ahead rather than show ever older pictures.
      this.#awaitingKeyframe = true;
    }
    if (this.#awaitingKeyframe && !unit.keyframe) {
      this.counts.framesDropped++;
      this.#requestKeyframe();
      return;
    }
    this.#awaitingKeyframe = false;
    const timestamp = this.#timestamp(unit.sequence);
    const decodeCalled = epochNow();
    this.#pending.set(timestamp, {
      sequence: unit.sequence,
      keyframe: unit.keyframe,
      sent: unit.captureTime,
      received: unit.received,
      decodeCalled,
      output: 0,
      converted: 0,
      drawn: 0,
    });
    try {
      decoder.decode(
        new EncodedVideoChunk({ type: unit.keyframe ? 'key' : 'delta', timestamp, data: unit.data }),
      );
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Stops decoding and frees the decoder. */
  close(): void {
    const decoder = this.#decoder;
    this.#decoder = undefined;
    this.#pending.clear();
    if (decoder && decoder.state !== 'closed') decoder.close();
  }

  #startDecoder(): void {
    this.close();
    const codec = this.#codec;
    if (codec === undefined) return;
    this.#awaitingKeyframe = true;
    const decoder = new VideoDecoder({
      output: (picture) => this.#output(decoder, picture),
      error: (error) => this.#fail(error, decoder),
    });
    this.#decoder = decoder;
    try {
      // No `description`: the decoder then expects Annex B with SPS/PPS in each keyframe.
      decoder.configure({ codec, optimizeForLatency: true, hardwareAcceleration: 'no-preference' });
    } catch (error) {
      // configure() throws only for a configuration it can never accept: resetting would loop.
      this.close();
      this.counts.decoderErrors++;
      this.#hooks.onUnsupported(`This browser cannot decode the ${codec} stream (${String(error)}).`);
    }
  }

  #output(decoder: VideoDecoder, picture: VideoFrame): void {
    if (decoder !== this.#decoder) {
      picture.close();
      return;
    }
    const timings = this.#pending.get(picture.timestamp);
    this.#pending.delete(picture.timestamp);
    if (timings) timings.output = epochNow();
    this.counts.framesDecoded++;
    if (decoder.decodeQueueSize > 0) {
      // A newer unit waits to be decoded (a backlog, or the agent replaying from a keyframe so a
      // new viewer can start): this picture would be overdrawn before anyone saw it.
      this.counts.picturesSkipped++;
      picture.close();
      return;
    }
    this.#hooks.onPicture(picture, timings);
  }

  #fail(error: unknown, decoder = this.#decoder): void {
    if (decoder !== this.#decoder) return;
    this.counts.decoderErrors++;
    if (error instanceof DOMException && error.name === 'NotSupportedError') {
      this.close();
      this.#hooks.onUnsupported(`This browser cannot decode the ${this.#codec ?? 'video'} stream.`);
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
}

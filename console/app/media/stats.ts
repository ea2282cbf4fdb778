/**
 * Live counters for the session view, the end-to-end tests and the benchmarks, published as
 * `window.lifelineStats`. Counters only grow; rates come from {@link RateMeter}.
 */
export interface LifelineStats {
  /** Pictures the decoder produced, drawn or (see `picturesSkipped`) not. */
  framesDecoded: number;
  /** Video payload bytes received (access units, without frame headers). */
  bytesReceived: number;
  /** Keyframes received. */
  keyframes: number;
  /** When the last picture was drawn, in ms since the Unix epoch; 0 before the first. */
  lastFrameAt: number;
  /** Access units received, decoded or not. */
  framesReceived: number;
  /** Access units dropped while waiting for a keyframe. */
  framesDropped: number;
  /** Times the decoder failed and was reset. */
  decoderErrors: number;
  /** Pictures decoded but not drawn because a newer unit was already waiting to be decoded. */
  picturesSkipped: number;
  /** Drawn minus captured time of the last picture, in ms (meaningful when both clocks agree). */
  lastLatencyMs: number;
  /** The last round trip to the agent and back (`ping`/`pong`), in ms; 0 before the first. */
  lastRoundTripMs: number;
  /** Round trips measured. */
  roundTrips: number;
  /** Pointer events not sent while a monitor switch replaced the picture (see `PointerHold`). */
  pointerEventsHeld: number;
  /**
   * How late the page ran what was due, in ms: the mean over the last whole second of its timer's
   * lateness (see `SchedulingLag`); 0 before the first whole second.
   */
  schedulingLagMs: number;
  /** Seconds at whose end the scheduling lag said the console is behind (starved of CPU). */
  secondsStarved: number;
}

declare global {
  interface Window {
    lifelineStats?: LifelineStats;
  }
}

/** Fresh counters for a new session, published on `window` so tests can read them. */
export function createStats(): LifelineStats {
  const stats: LifelineStats = {
    framesDecoded: 0,
    bytesReceived: 0,
    keyframes: 0,
    lastFrameAt: 0,
    framesReceived: 0,
    framesDropped: 0,
    decoderErrors: 0,
    picturesSkipped: 0,
    lastLatencyMs: 0,
    lastRoundTripMs: 0,
    roundTrips: 0,
    pointerEventsHeld: 0,
    schedulingLagMs: 0,
    secondsStarved: 0,
  };
  window.lifelineStats = stats;
  return stats;
}

export interface Rates {
  /** Pictures decoded per second. */
  fps: number;
  /** Video received, in kilobits per second. */
  kbps: number;
}

/** Turns the growing counters into rates over the interval since the previous sample. */
export class RateMeter {
  readonly #stats: LifelineStats;
  #at: number;
  #frames: number;
  #bytes: number;

  constructor(stats: LifelineStats, now = performance.now()) {
    this.#stats = stats;
    this.#at = now;
    this.#frames = stats.framesDecoded;
    this.#bytes = stats.bytesReceived;
  }

  sample(now = performance.now()): Rates {
    const seconds = Math.max((now - this.#at) / 1000, 0.001);
    const rates = {
      fps: (this.#stats.framesDecoded - this.#frames) / seconds,
      kbps: ((this.#stats.bytesReceived - this.#bytes) * 8) / 1000 / seconds,
    };
    this.#at = now;
    this.#frames = this.#stats.framesDecoded;
    this.#bytes = this.#stats.bytesReceived;
    return rates;
  }
}

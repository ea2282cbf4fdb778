import type { MessageOf } from '../../../protocol/index.ts';
import { Store } from '../tools/store.ts';
import type { LifelineStats } from './stats.ts';
import { RateMeter } from './stats.ts';

/** One second of the session as the operator saw it. */
export interface QualitySample {
  /** When it was taken, in ms since the epoch. */
  at: number;
  /** Pictures decoded per second. */
  fps: number;
  /** Video received, in kilobits per second. */
  kbps: number;
  /** The last round trip console → relay → agent → relay → console, in ms; null when none came back. */
  rttMs: number | null;
  /** The most pictures a second the agent's adaptation allowed then; null before it said. */
  fpsCap: number | null;
}

/** How often a sample is taken, in ms. */
export const QUALITY_SAMPLE_MS = 1000;
/** How often the round trip is measured, in ms. */
export const PING_INTERVAL_MS = 2000;
/** Samples kept: the last three minutes. */
export const QUALITY_WINDOW_SAMPLES = 180;
/** A ping without its pong after this long is given up, in ms; the sample then has no round trip. */
const PING_TIMEOUT_MS = 10_000;

export interface QualityState {
  /** Oldest first, at most QUALITY_WINDOW_SAMPLES. */
  samples: QualitySample[];
  /** What the agent's adaptation to the link chose last (`video-adaptation`); null before it said. */
  adaptation: MessageOf<'video-adaptation'> | null;
}

/**
 * Frames per second, kbit/s and the round-trip time of the session, one sample a second over the
 * last minutes, for the operator's quality plot and the status bar. The round trip is measured with
 * `ping` messages the agent answers (through the relay), so it covers the whole path input takes.
 * @example
 * const quality = new QualityHistory(stats, (message) => relay.send(message));
 * quality.start();
 * quality.pong(message); // the agent's answer, from the relay
 */
export class QualityHistory extends Store<QualityState> {
  readonly #stats: LifelineStats;
  readonly #send: (message: MessageOf<'ping'>) => boolean;
  #meter: RateMeter;
  #timer: ReturnType<typeof setInterval> | undefined;
  #nextId = 1;
  /** Pings in flight: id → when sent (performance.now()). */
  readonly #pending = new Map<number, number>();
  #lastRtt: { ms: number; at: number } | undefined;
  #ticks = 0;

  constructor(stats: LifelineStats, send: (message: MessageOf<'ping'>) => boolean) {
    super({ samples: [], adaptation: null });
    this.#stats = stats;
    this.#send = send;
    this.#meter = new RateMeter(stats);
  }

  /** Samples every second and measures the round trip every two, until `stop`. */
  start(): void {
    if (this.#timer) return;
    this.#meter = new RateMeter(this.#stats);
    this.#ping();
    this.#timer = setInterval(() => this.#tick(), QUALITY_SAMPLE_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
  }

  /** The agent answered a ping. */
  pong(message: MessageOf<'pong'>): void {
    const sentAt = this.#pending.get(message.id);
    if (sentAt === undefined) return;
    this.#pending.delete(message.id);
    const ms = performance.now() - sentAt;
    this.#lastRtt = { ms, at: performance.now() };
    this.#stats.lastRoundTripMs = ms;
    this.#stats.roundTrips++;
  }

  /** The agent says what its adaptation to the link chose. */
  adapted(message: MessageOf<'video-adaptation'>): void {
    this.update({ adaptation: message });
  }

  /** The newest sample, or null before the first. */
  get latest(): QualitySample | null {
    return this.state.samples.at(-1) ?? null;
  }

  #tick(): void {
    const now = performance.now();
    const rates = this.#meter.sample(now);
    // A round trip older than two ping intervals no longer says how the link is now.
    const fresh = this.#lastRtt && now - this.#lastRtt.at <= 2 * PING_INTERVAL_MS;
    const sample: QualitySample = {
      at: Date.now(),
      ...rates,
      rttMs: fresh ? (this.#lastRtt?.ms ?? null) : null,
      fpsCap: this.state.adaptation?.fps ?? null,
    };
    const samples = [...this.state.samples, sample].slice(-QUALITY_WINDOW_SAMPLES);
    this.update({ samples });
    this.#ticks++;
    if (this.#ticks % (PING_INTERVAL_MS / QUALITY_SAMPLE_MS) === 0) this.#ping();
  }

  #ping(): void {
    const now = performance.now();
    for (const [id, sentAt] of this.#pending) if (now - sentAt > PING_TIMEOUT_MS) this.#pending.delete(id);
    const id = this.#nextId;
    this.#nextId = (this.#nextId % 0xffff_ffff) + 1;
    if (this.#send({ type: 'ping', id })) this.#pending.set(id, now);
  }
}

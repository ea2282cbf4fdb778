import { type VideoFrame as AccessUnit, decodeFrame, type MessageOf } from '../../../protocol/index.ts';
import { type RecordingRecord, recordJson } from '../../../protocol/recording.ts';
import type { RemoteCursor } from './remote-cursor.ts';

type VideoConfig = MessageOf<'video-config'>;
type CursorMessage = MessageOf<'cursor-shape'> | MessageOf<'cursor-position'>;

interface TimedUnit {
  at: number;
  unit: AccessUnit;
}

/** A chat message or an event of a recording, as the player lists it. */
export interface TrackItem {
  /** Milliseconds since the recording began. */
  at: number;
  kind: 'chat' | 'event';
  text: string;
}

/** The fields of chat and event records the list shows. */
interface TrackJson {
  from?: { name?: string };
  text?: string;
  action?: string;
  details?: { path?: string; command?: string; name?: string; reason?: string };
}

/** Says what a chat or event record was, in a line; undefined for records the list does not show. */
export function trackItemOf(record: RecordingRecord): TrackItem | undefined {
  if (record.kind !== 'chat' && record.kind !== 'event') return undefined;
  const value = recordJson(record) as TrackJson | undefined;
  if (!value || typeof value !== 'object') return undefined;
  if (record.kind === 'chat') {
    return {
      at: record.at,
      kind: 'chat',
      text: `${String(value.from?.name ?? '?')}: ${String(value.text ?? '')}`,
    };
  }
  const details = value.details;
  const subject = details?.path ?? details?.command ?? details?.name ?? details?.reason;
  return {
    at: record.at,
    kind: 'event',
    text: subject === undefined ? String(value.action) : `${String(value.action)} ${String(subject)}`,
  };
}

/**
 * Plays a decoded recording's video on a canvas with WebCodecs: play, pause, and seek (which decodes
 * from the keyframe before the target, so any moment can be shown).
 */
export class RecordingPlayer {
  readonly duration: number;
  readonly #canvas: HTMLCanvasElement;
  readonly #context: CanvasRenderingContext2D | null;
  readonly #units: TimedUnit[] = [];
  readonly #configs: { at: number; config: VideoConfig }[] = [];
  readonly #onTime: (ms: number) => void;
  readonly #cursor: RemoteCursor | undefined;
  readonly #cursorShapes: { at: number; message: MessageOf<'cursor-shape'> }[] = [];
  readonly #cursorPositions: { at: number; message: MessageOf<'cursor-position'> }[] = [];
  #decoder: VideoDecoder | undefined;
  #config: VideoConfig | undefined;
  /** Index of the next unit to decode. */
  #next = 0;
  #position = 0;
  #playing: { from: number; clock: number } | undefined;
  #frame = 0;
  #drawn = 0;

  /** `cursor` draws the device's cursor where the agent recorded it apart from the picture (X11). */
  constructor(
    canvas: HTMLCanvasElement,
    records: readonly RecordingRecord[],
    onTime: (ms: number) => void,
    cursor?: RemoteCursor,
  ) {
    this.#canvas = canvas;
    this.#cursor = cursor;
    this.#context = canvas.getContext('2d', { alpha: false });
    this.#onTime = onTime;
    for (const record of records) {
      if (record.kind === 'video') {
        const decoded = decodeFrame(record.payload);
        if (decoded.ok && decoded.frame.kind === 'video')
          this.#units.push({ at: record.at, unit: decoded.frame });
      } else if (record.kind === 'videoConfig') {
        const config = recordJson(record) as VideoConfig | undefined;
        if (config?.codec) this.#configs.push({ at: record.at, config });
      } else if (record.kind === 'cursor') {
        const message = recordJson(record) as CursorMessage | undefined;
        if (message?.type === 'cursor-shape') this.#cursorShapes.push({ at: record.at, message });
        else if (message?.type === 'cursor-position') this.#cursorPositions.push({ at: record.at, message });
      }
    }
    this.duration = records.at(-1)?.at ?? 0;
  }

  get playing(): boolean {
    return this.#playing !== undefined;
  }

  /** Where playback is, in milliseconds since the recording began. */
  get position(): number {
    return this.#position;
  }

  play(): void {
    if (this.#playing) return;
    if (this.#position >= this.duration) this.seek(0);
    this.#playing = { from: this.#position, clock: performance.now() };
    const tick = () => {
      if (!this.#playing) return;
      this.#position = Math.min(this.duration, this.#playing.from + performance.now() - this.#playing.clock);
      this.#feedUntil(this.#position);
      this.#showCursorAt(this.#position);
      this.#onTime(this.#position);
      if (this.#position >= this.duration) this.pause();
      else this.#frame = requestAnimationFrame(tick);
    };
    this.#frame = requestAnimationFrame(tick);
  }

  pause(): void {
    this.#playing = undefined;
    cancelAnimationFrame(this.#frame);
  }

  /** Shows the picture at `ms`: decodes from the keyframe before it. */
  seek(ms: number): void {
    const playing = this.#playing !== undefined;
    this.pause();
    this.#position = Math.max(0, Math.min(this.duration, ms));
    let keyframe = 0;
    for (let index = 0; index < this.#units.length; index++) {
      const item = this.#units[index]!;
      if (item.at > this.#position) break;
      if (item.unit.keyframe) keyframe = index;
    }
    this.#restart();
    this.#next = keyframe;
    // Before the first picture there is nothing to show: show the first one.
    this.#feedUntil(Math.max(this.#position, this.#units[0]?.at ?? 0));
    this.#showCursorAt(this.#position);
    this.#onTime(this.#position);
    if (playing) this.play();
  }

  close(): void {
    this.pause();
    this.#cursor?.dispose();
    if (this.#decoder && this.#decoder.state !== 'closed') this.#decoder.close();
    this.#decoder = undefined;
  }

  #restart(): void {
    if (this.#decoder && this.#decoder.state !== 'closed') this.#decoder.close();
    this.#decoder = undefined;
    this.#config = undefined;
  }

  /** The video configuration in force at a moment. */
  #configAt(at: number): VideoConfig | undefined {
    let found = this.#configs[0]?.config;
    for (const entry of this.#configs) if (entry.at <= at) found = entry.config;
    return found;
  }

  #feedUntil(ms: number): void {
    while (this.#next < this.#units.length && this.#units[this.#next]!.at <= ms) {
      const { at, unit } = this.#units[this.#next]!;
      const index = this.#next++;
      const config = this.#configAt(at);
      if (!config) continue;
      if (config !== this.#config || !this.#decoder) {
        if (!unit.keyframe) continue; // a new configuration starts at a keyframe
        this.#configure(config);
      }
      try {
        this.#decoder?.decode(
          new EncodedVideoChunk({
            type: unit.keyframe ? 'key' : 'delta',
            timestamp: index * 1000,
            data: unit.data,
          }),
        );
      } catch (error) {
        console.warn('lifeline: recording frame not decoded', error);
        this.#restart();
      }
    }
  }

  /** The cursor as it was at `ms`: the last shape and position recorded until then. */
  #showCursorAt(ms: number): void {
    const cursor = this.#cursor;
    if (!cursor) return;
    const shape = lastUntil(this.#cursorShapes, ms);
    const position = lastUntil(this.#cursorPositions, ms);
    if (!shape || !position) {
      cursor.reset();
      return;
    }
    cursor.shape(shape);
    cursor.move(position);
  }

  #configure(config: VideoConfig): void {
    this.#restart();
    this.#cursor?.configure(config.width, config.height);
    const decoder = new VideoDecoder({
      output: (picture) => {
        try {
          if (decoder !== this.#decoder) return;
          // The screen's size whatever the picture's: video mode's pictures (half each side) are scaled up.
          if (this.#canvas.width !== config.width) this.#canvas.width = config.width;
          if (this.#canvas.height !== config.height) this.#canvas.height = config.height;
          this.#canvas.setAttribute('data-picture-size', `${picture.displayWidth}x${picture.displayHeight}`);
          this.#context?.drawImage(picture, 0, 0, this.#canvas.width, this.#canvas.height);
          // For tests and curious operators: how many pictures were drawn.
          this.#canvas.setAttribute('data-frames', String(++this.#drawn));
        } finally {
          picture.close();
        }
      },
      error: (error) => console.warn('lifeline: recording decoder error', error),
    });
    decoder.configure({ codec: config.codec, optimizeForLatency: true });
    this.#decoder = decoder;
    this.#config = config;
  }
}

/** The message of the last entry at or before `ms` (entries in time order). */
function lastUntil<T>(entries: readonly { at: number; message: T }[], ms: number): T | undefined {
  let found: T | undefined;
  for (const entry of entries) {
    if (entry.at > ms) break;
    found = entry.message;
  }
  return found;
}

import type { FileHandle } from 'node:fs/promises';
import { isKeyframe } from '../../protocol/frames.ts';
import {
  encodeJsonRecord,
  encodeRecord,
  encodeRecordingHeader,
  type RecordKindName,
} from '../../protocol/recording.ts';

/** Past this many bytes waiting for the disk, video is dropped until the next keyframe. */
export const MAX_QUEUED_VIDEO_BYTES = 8 * 1024 * 1024;
/** Past this many bytes waiting for the disk, even chat and events are dropped: memory stays bounded. */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** What a finished recording wrote. */
export interface RecordingStats {
  bytes: number;
  frames: number;
  droppedFrames: number;
}

export interface SessionRecorderOptions {
  sessionId: string;
  handle: FileHandle;
  /** Called once when the recording begins (at consent), e.g. to add its row; a rejection fails it. */
  onBegin(startedAt: Date): Promise<void>;
  /** Called once when the recording cannot go on (the disk failed): the session must end. */
  onFailure(error: unknown): void;
}

/**
 * Records one session into an open `.llrec` file (format: protocol/recording.ts). The relay calls it
 * on its hot path, so nothing here awaits the disk: records are queued and written in the background.
 * The queue is bounded: when the disk falls behind, video is dropped (and counted) until the next
 * keyframe, so the recording stays decodable and memory never grows without limit.
 */
export class SessionRecorder {
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private writing = false;
  private startedAt: number | undefined;
  private needsKeyframe = true;
  private failed = false;
  private closed = false;
  private drained: (() => void)[] = [];
  /** The row being added at begin(); close() waits for it so the totals land on it. */
  private begun: Promise<void> = Promise.resolve();
  bytes = 0;
  frames = 0;
  droppedFrames = 0;

  constructor(private readonly options: SessionRecorderOptions) {}

  /** Whether records are being taken (from consent on). */
  get recording(): boolean {
    return this.startedAt !== undefined && !this.failed && !this.closed;
  }

  /** Starts the recording's clock and writes its header; later calls do nothing. */
  begin(now = Date.now()): void {
    if (this.startedAt !== undefined || this.failed || this.closed) return;
    this.startedAt = now;
    this.enqueue(encodeRecordingHeader({ version: 1, sessionId: this.options.sessionId, startedAt: now }));
    this.begun = this.options.onBegin(new Date(now)).catch((error: unknown) => this.fail(error));
  }

  /** The agent's stream starts again (it reconnected): nothing decodes until its next keyframe. */
  keyframeNeeded(): void {
    this.needsKeyframe = true;
  }

  /**
   * Records a video frame as the agent sent it. Returns true when a keyframe is wanted (frames are
   * being dropped), so the caller can ask the agent for one.
   */
  video(frame: Uint8Array): boolean {
    if (!this.recording) return false;
    const keyframe = isKeyframe(frame);
    if (this.needsKeyframe && !keyframe) {
      // Before the first keyframe nothing is decodable yet: not a loss, so not counted.
      if (this.frames > 0) this.droppedFrames++;
      return true;
    }
    if (this.queuedBytes + frame.byteLength > MAX_QUEUED_VIDEO_BYTES) {
      this.needsKeyframe = true;
      this.droppedFrames++;
      return true;
    }
    this.needsKeyframe = false;
    this.frames++;
    this.enqueue(encodeRecord(this.now(), 'video', frame));
    return false;
  }

  /** Records a JSON record: the video configuration, a stamped chat message or an event. */
  json(kind: Exclude<RecordKindName, 'video'>, value: unknown): void {
    if (!this.recording) return;
    const record = encodeJsonRecord(this.now(), kind, value);
    if (this.queuedBytes + record.byteLength > MAX_QUEUED_BYTES) return;
    this.enqueue(record);
  }

  /** Records a terminal's output: the agent's shell-data frame as it was sent (kind `shell`). */
  shell(frame: Uint8Array): void {
    if (!this.recording) return;
    const record = encodeRecord(this.now(), 'shell', frame);
    if (this.queuedBytes + record.byteLength > MAX_QUEUED_BYTES) return;
    this.enqueue(record);
  }

  /** Records an event of the session (what the relay audits), e.g. `event('shell.open', {channel})`. */
  event(action: string, details?: Record<string, unknown>): void {
    this.json('event', details ? { action, details } : { action });
  }

  /**
   * Writes what is queued and closes the file. Returns undefined when the recording never began
   * (no consent): the caller deletes the empty file.
   */
  async close(): Promise<RecordingStats | undefined> {
    if (!this.closed) {
      this.closed = true;
      if (this.writing) await new Promise<void>((resolve) => this.drained.push(resolve));
      await this.begun;
      await this.options.handle.close().catch(() => undefined);
    }
    if (this.startedAt === undefined) return undefined;
    return { bytes: this.bytes, frames: this.frames, droppedFrames: this.droppedFrames };
  }

  /** Ends the recording because it cannot go on; the session is told through onFailure. */
  fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.options.onFailure(error);
  }

  private now(): number {
    return Date.now() - (this.startedAt ?? Date.now());
  }

  private enqueue(record: Uint8Array): void {
    this.queue.push(record);
    this.queuedBytes += record.byteLength;
    if (!this.writing) void this.pump();
  }

  private async pump(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0 && !this.failed) {
        const batch = Buffer.concat(this.queue.splice(0));
        let written = 0;
        while (written < batch.byteLength) {
          const result = await this.options.handle.write(batch, written, batch.byteLength - written);
          written += result.bytesWritten;
        }
        this.queuedBytes -= batch.byteLength;
        this.bytes += batch.byteLength;
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.writing = false;
      for (const resolve of this.drained.splice(0)) resolve();
    }
  }
}

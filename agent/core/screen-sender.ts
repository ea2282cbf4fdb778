import {
  type ControlMessage,
  encodeVideo,
  type MessageOf,
  type VideoPreference,
} from '../../protocol/index.ts';
import type { AccessUnit, ScreenSource, ScreenStream, VideoConfig } from './ports.ts';
import { MAX_AGENT_BUFFERED_BYTES } from './uplink.ts';
import { VideoPacer } from './video-pacer.ts';

/** How often a replay that could not go out yet is tried again, in ms. */
const REPLAY_RETRY_MS = 50;
/**
 * While the screen moves, a replay may cost this many times the keyframe it starts with; a larger
 * group waits for the next keyframe instead, which the motion brings soon and costs less.
 */
const REPLAY_MAX_KEYFRAMES = 2;
/** Time without a new unit after which the screen counts as still and its group is replayed whatever its size, in ms. */
const STILL_AFTER_MS = 300;
/** The capture's rate until the stream says its own, frames per second. */
const DEFAULT_MAX_FPS = 30;
/** Operators hear the adaptation when it changes and, for the backlog it answers, at most this often, in ms. */
const ADAPTATION_STATUS_MS = 2_000;

/** What the screen sender needs from its session. */
export interface ScreenLink {
  /** The session's current socket. */
  socket(): WebSocket | undefined;
  /** Whether the user allows viewing now. */
  viewing(): boolean;
  send(message: ControlMessage): boolean;
  status(text: string): void;
}

/**
 * Streams the screen to the relay while viewing is allowed, every access unit as one video frame,
 * and, from sources that leave the cursor out of the picture, the cursor's shape and position as
 * control messages (the console draws it, so it moves without waiting for video).
 *
 * The screen source encodes only changes, so a still screen sends nothing, and its keyframes come
 * after a number of changed frames rather than on a clock. The sender therefore keeps the units
 * since the last keyframe (the group of pictures) and, whenever viewers must start over — an
 * operator joins or its decoder failed (`requestKeyframe`), a new connection (`resume`), units that
 * could not be sent — replays that group at once: keyframe first, then the deltas up to the current
 * picture, under new sequence numbers and their original capture times. A viewer decodes its first
 * picture from them without waiting for the encoder; those already watching decode the same
 * pictures again, which leaves them where they were.
 *
 * When the socket holds more than MAX_AGENT_BUFFERED_BYTES a unit is not queued; the group is
 * replayed once the socket has drained, rather than stale pictures queued behind each other. While
 * the screen moves, a group past twice its keyframe's size is not replayed: the next keyframe is
 * sent instead, so repeated requests (a slow operator) cannot multiply the upload.
 */
export class ScreenSender {
  private stream: ScreenStream | undefined;
  private sequence = 0;
  /** The last keyframe and every unit since: what a decoder starting now needs. */
  private group: AccessUnit[] = [];
  private groupBytes = 0;
  private lastUnitAt = 0;
  /** A keyframe was asked of the source for a replay and has not come yet. */
  private keyframeAsked = false;
  /** Viewers must start over from the keyframe before the next unit is sent. */
  private replayPending = true;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private config: VideoConfig | undefined;
  /** The cursor as last reported, for a new connection (sources that leave it out of the picture). */
  private cursorShape: MessageOf<'cursor-shape'> | undefined;
  private cursorPosition: MessageOf<'cursor-position'> | undefined;
  /** Access units not sent: before the first keyframe, or while the socket was full. */
  dropped = 0;
  /** The frame rate the link allows (see `VideoPacer`). */
  private readonly pacer = new VideoPacer(DEFAULT_MAX_FPS);
  private adaptationSentAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly source: ScreenSource,
    private readonly link: ScreenLink,
  ) {}

  async start(): Promise<void> {
    if (this.stream) return;
    this.group = [];
    this.replayPending = true;
    const stream = await this.source.start({
      onConfig: (config) => {
        this.config = config;
        this.pacer.setMaxFps(config.framerate);
        this.link.send({ type: 'video-config', ...config });
        this.adapt(true);
      },
      onAccessUnit: (unit) => this.accept(unit),
      onError: (text) => this.link.status(`Screen capture failed: ${text}`),
      onCursorShape: (image) => {
        this.cursorShape = { type: 'cursor-shape', ...image };
        if (this.openSocket()) this.link.send(this.cursorShape);
      },
      onPointer: (x, y) => {
        this.cursorPosition = { type: 'cursor-position', x, y };
        const socket = this.openSocket();
        // A move is worth nothing once the next one exists: behind a full socket it is skipped.
        if (socket && socket.bufferedAmount <= MAX_AGENT_BUFFERED_BYTES) this.link.send(this.cursorPosition);
      },
    });
    this.stream = stream;
    // A new stream (viewing allowed again, another monitor) starts at the rate the link allows now.
    stream.setFrameRate?.(this.pacer.fps);
    stream.setQuality?.(this.pacer.crf);
    this.pacer.budgeted = stream.setBudget !== undefined;
    stream.setBudget?.(this.pacer.budget);
  }

  async stop(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    this.group = [];
    this.cursorShape = undefined;
    this.cursorPosition = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await stream?.stop();
  }

  /**
   * A viewer needs a picture now: a new keyframe where the source makes one on request (it is sent
   * like any unit), otherwise the current group goes out again, keyframe first.
   */
  requestKeyframe(): void {
    if (this.stream?.keyframesOnRequest) {
      this.stream.requestKeyframe();
      return;
    }
    this.replayPending = true;
    this.replay();
  }

  /**
   * The relay reports how long video takes to reach the slowest operator (`video-backlog`): the
   * capture slows down (or, where the encoder can, keeps to a bitrate budget) when it queues up,
   * and speeds up again once it no longer does. A console that says it is `behind` gets fewer
   * pictures, never a lower budget.
   */
  backlog(ms: number, bytes?: number, behind?: boolean): void {
    this.adapt(this.pacer.backlog(ms, Date.now(), bytes, behind));
  }

  /** An operator prefers speed or quality when the link cannot carry every picture. */
  prefer(preference: VideoPreference): void {
    this.adapt(this.pacer.setPreference(preference));
  }

  /** Applies the pacer's frame rate, quality and budget to the capture and tells the operators what it chose. */
  private adapt(changed: boolean): void {
    if (changed) {
      this.stream?.setFrameRate?.(this.pacer.fps);
      this.stream?.setQuality?.(this.pacer.crf);
      this.stream?.setBudget?.(this.pacer.budget);
    }
    const now = Date.now();
    if (!changed && now - this.adaptationSentAt < ADAPTATION_STATUS_MS) return;
    if (!this.openSocket()) return;
    this.adaptationSentAt = now;
    this.link.send(this.pacer.status());
  }

  /** On a new connection: the video config again, the cursor, then the current group. */
  resume(): void {
    this.replayPending = true;
    if (this.config) this.link.send({ type: 'video-config', ...this.config });
    if (this.config) this.adapt(true);
    if (this.openSocket()) {
      if (this.cursorShape) this.link.send(this.cursorShape);
      if (this.cursorPosition) this.link.send(this.cursorPosition);
    }
    this.replay();
  }

  private accept(unit: AccessUnit): void {
    if (unit.keyframe) {
      this.keyframeAsked = false;
      this.group = [unit];
      this.groupBytes = 0;
    } else if (this.group.length > 0) this.group.push(unit);
    else {
      // Nothing decodes before the first keyframe.
      this.dropped++;
      return;
    }
    this.groupBytes += unit.data.byteLength;
    this.lastUnitAt = Date.now();
    if (this.replayPending) {
      this.replay();
      return;
    }
    const socket = this.openSocket();
    if (!socket) {
      this.replayPending = true;
      return;
    }
    if (this.pacer.uplink(socket.bufferedAmount, Date.now())) this.adapt(true);
    if (socket.bufferedAmount > MAX_AGENT_BUFFERED_BYTES) {
      this.dropped++;
      this.replayPending = true;
      this.retryLater();
      return;
    }
    this.send(socket, unit);
  }

  /** Sends the current group if the socket can take it, or tries again shortly if it is full. */
  private replay(): void {
    if (!this.replayPending || !this.stream) return;
    const socket = this.openSocket();
    // Without a socket or permission to view, `resume` or the next request replays.
    if (!socket) return;
    if (this.group.length === 0) {
      // No keyframe yet: the first one will be sent as it comes.
      this.stream.requestKeyframe();
      return;
    }
    const keyframeBytes = this.group[0]?.data.byteLength ?? 0;
    const moving = Date.now() - this.lastUnitAt < STILL_AFTER_MS;
    const large = this.groupBytes > REPLAY_MAX_KEYFRAMES * keyframeBytes;
    if (large && this.stream.keyframesOnRequest && socket.bufferedAmount <= MAX_AGENT_BUFFERED_BYTES) {
      // A new keyframe is smaller, and comes at once: its arrival (`accept`) replays the new group.
      if (!this.keyframeAsked) this.stream.requestKeyframe();
      this.keyframeAsked = true;
      return;
    }
    if (socket.bufferedAmount > MAX_AGENT_BUFFERED_BYTES || (moving && large)) {
      this.retryLater();
      return;
    }
    this.replayPending = false;
    for (const unit of this.group) this.send(socket, unit);
  }

  private retryLater(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.replay();
    }, REPLAY_RETRY_MS);
  }

  private openSocket(): WebSocket | undefined {
    const socket = this.link.socket();
    if (!socket || socket.readyState !== WebSocket.OPEN || !this.link.viewing()) return undefined;
    return socket;
  }

  private send(socket: WebSocket, unit: AccessUnit): void {
    const frame = encodeVideo({
      keyframe: unit.keyframe,
      sequence: this.sequence++,
      captureTime: unit.captureTime,
      data: unit.data,
    });
    this.pacer.sent(frame.byteLength);
    socket.send(frame);
  }
}

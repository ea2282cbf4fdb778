import { type ControlMessage, encodeVideo } from '../../protocol/index.ts';
import type { AccessUnit, ScreenSource, ScreenStream, VideoConfig } from './ports.ts';
import { MAX_AGENT_BUFFERED_BYTES } from './uplink.ts';

/** How often a replay that found the socket full is tried again, in ms. */
const REPLAY_RETRY_MS = 50;

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
 * Streams the screen to the relay while viewing is allowed, every access unit as one video frame.
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
 * replayed once the socket has drained, rather than stale pictures queued behind each other.
 */
export class ScreenSender {
  private stream: ScreenStream | undefined;
  private sequence = 0;
  /** The last keyframe and every unit since: what a decoder starting now needs. */
  private group: AccessUnit[] = [];
  /** Viewers must start over from the keyframe before the next unit is sent. */
  private replayPending = true;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private config: VideoConfig | undefined;
  /** Access units not sent: before the first keyframe, or while the socket was full. */
  dropped = 0;

  constructor(
    private readonly source: ScreenSource,
    private readonly link: ScreenLink,
  ) {}

  async start(): Promise<void> {
    if (this.stream) return;
    this.group = [];
    this.replayPending = true;
    this.stream = await this.source.start({
      onConfig: (config) => {
        this.config = config;
        this.link.send({ type: 'video-config', ...config });
      },
      onAccessUnit: (unit) => this.accept(unit),
      onError: (text) => this.link.status(`Screen capture failed: ${text}`),
    });
  }

  async stop(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    this.group = [];
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await stream?.stop();
  }

  /** A viewer needs a picture now: the current group goes out again, keyframe first. */
  requestKeyframe(): void {
    this.replayPending = true;
    this.replay();
  }

  /** On a new connection: the video config again, then the current group. */
  resume(): void {
    this.replayPending = true;
    if (this.config) this.link.send({ type: 'video-config', ...this.config });
    this.replay();
  }

  private accept(unit: AccessUnit): void {
    if (unit.keyframe) this.group = [unit];
    else if (this.group.length > 0) this.group.push(unit);
    else {
      // Nothing decodes before the first keyframe.
      this.dropped++;
      return;
    }
    if (this.replayPending) {
      this.replay();
      return;
    }
    const socket = this.openSocket();
    if (!socket) {
      this.replayPending = true;
      return;
    }
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
    if (socket.bufferedAmount > MAX_AGENT_BUFFERED_BYTES) {
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
    socket.send(
      encodeVideo({
        keyframe: unit.keyframe,
        sequence: this.sequence++,
        captureTime: unit.captureTime,
        data: unit.data,
      }),
    );
  }
}

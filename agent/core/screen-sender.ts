import { type ControlMessage, encodeVideo } from '../../protocol/index.ts';
import type { ScreenSource, ScreenStream, VideoConfig } from './ports.ts';
import { MAX_AGENT_BUFFERED_BYTES } from './uplink.ts';

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
 * Streams the screen to the relay while viewing is allowed: every access unit as one video frame,
 * starting at a keyframe, and when the socket holds more than MAX_AGENT_BUFFERED_BYTES it skips to
 * the next keyframe rather than queue stale pictures.
 */
export class ScreenSender {
  private stream: ScreenStream | undefined;
  private sequence = 0;
  private waitingForKeyframe = false;
  private config: VideoConfig | undefined;
  /** Access units not sent: before the first keyframe, or skipped while the socket was full. */
  dropped = 0;

  constructor(
    private readonly source: ScreenSource,
    private readonly link: ScreenLink,
  ) {}

  async start(): Promise<void> {
    if (this.stream) return;
    this.waitingForKeyframe = true;
    this.stream = await this.source.start({
      onConfig: (config) => {
        this.config = config;
        this.link.send({ type: 'video-config', ...config });
      },
      onAccessUnit: (unit) => {
        const socket = this.link.socket();
        if (!socket || socket.readyState !== WebSocket.OPEN || !this.link.viewing()) return;
        if (this.waitingForKeyframe && !unit.keyframe) {
          this.dropped++;
          return;
        }
        if (socket.bufferedAmount > MAX_AGENT_BUFFERED_BYTES) {
          this.waitingForKeyframe = true;
          this.dropped++;
          this.stream?.requestKeyframe();
          return;
        }
        this.waitingForKeyframe = false;
        socket.send(
          encodeVideo({
            keyframe: unit.keyframe,
            sequence: this.sequence++,
            captureTime: unit.captureTime,
            data: unit.data,
          }),
        );
      },
      onError: (text) => this.link.status(`Screen capture failed: ${text}`),
    });
  }

  async stop(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    await stream?.stop();
  }

  requestKeyframe(): void {
    this.stream?.requestKeyframe();
  }

  /** On a new connection: the video config again, and nothing before the next keyframe. */
  resume(): void {
    this.waitingForKeyframe = true;
    if (this.config) this.link.send({ type: 'video-config', ...this.config });
    this.stream?.requestKeyframe();
  }
}

import type { ControlMessage, FileChunkFrame, ResultCode, ShellDataFrame } from '../../protocol/index.ts';
import { describeFailure } from './channel-failure.ts';
import type { Uplink } from './uplink.ts';

/** Which permission a channel needs: shells and commands need `shell`, transfers and listings `files`. */
export type ChannelCapability = 'shell' | 'files';

/** Channel messages an open channel receives after the request that opened it. */
export type FollowUpMessage = Extract<ControlMessage, { type: 'shell-resize' | 'file-ack' | 'file-end' }>;

/** The device's side of one open channel: a shell, a command, a transfer, a listing. */
export interface ChannelHandler {
  readonly capability: ChannelCapability;
  /** Stops the work (kills, cancels) without telling the operator; resolves when it is released. */
  close(): Promise<void>;
  /** A follow-up message on this channel. */
  control?(message: FollowUpMessage): void;
  /** Keystrokes for a shell, or a chunk of an upload. */
  frame?(frame: FileChunkFrame | ShellDataFrame): void;
}

/**
 * What one channel may say to its operator. Once it has ended (its last message sent, a failure
 * reported, or closed by the operator, a revocation or the session's end) it says nothing more.
 */
export class ChannelScope {
  private over = false;

  constructor(
    readonly id: number,
    /** The display name of the operator who opened it, for the end user's status lines. */
    readonly operator: string,
    readonly uplink: Uplink,
    private readonly forget: (scope: ChannelScope) => void,
    /** Told of every failure reported to the operator, so the end user hears of refusals too. */
    private readonly failed?: (code: ResultCode) => void,
  ) {}

  /** Whether the channel is over; work still under way should stop. */
  get ended(): boolean {
    return this.over;
  }

  send(message: ControlMessage): void {
    if (!this.over) this.uplink.send(message);
  }

  sendBytes(bytes: Uint8Array): void {
    if (!this.over) this.uplink.sendBytes(bytes);
  }

  /** The channel sent its last message. */
  end(): void {
    if (this.over) return;
    this.over = true;
    this.forget(this);
  }

  /** Reports a failure (a `ChannelFailure`'s code, else IO_ERROR) as `channel-error` and ends. */
  fail(error: unknown): void {
    if (this.over) return;
    const { code, message } = describeFailure(error);
    this.uplink.send({ type: 'channel-error', channel: this.id, code, message: message.slice(0, 1000) });
    this.failed?.(code);
    this.end();
  }
}

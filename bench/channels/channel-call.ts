import type { ControlMessage, FileChunkFrame, ShellDataFrame } from '../../protocol/index.ts';
import { ANSWER_TIMEOUT_MS, type OperatorClient } from './operator-client.ts';

/** What one channel's exchange does with what arrives; it settles the call through `done`/`fail`. */
export interface CallHandlers<T> {
  control(message: ControlMessage, call: ChannelCall<T>): void;
  frame?(frame: FileChunkFrame | ShellDataFrame, call: ChannelCall<T>): void;
}

/**
 * One exchange on a fresh channel of `client`: owns the channel until it settles, fails on
 * `channel-error`, on a closed socket and when nothing arrives for `idleMs`, and releases the
 * channel either way.
 */
export class ChannelCall<T> {
  readonly channel: number;
  readonly result: Promise<T>;
  private settle!: { resolve: (value: T) => void; reject: (error: Error) => void };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private settled = false;

  constructor(
    private readonly client: OperatorClient,
    private readonly what: string,
    handlers: CallHandlers<T>,
    private readonly idleMs = ANSWER_TIMEOUT_MS,
  ) {
    this.channel = client.ids.next();
    this.result = new Promise<T>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    client.claim(this.channel, {
      control: (message) => {
        this.alive();
        if (message.type === 'channel-error') {
          this.fail(new Error(`${this.what}: ${message.code} ${message.message}`));
          return;
        }
        this.guard(() => handlers.control(message, this));
      },
      frame: (frame) => {
        this.alive();
        this.guard(() => handlers.frame?.(frame, this));
      },
    });
    client.socket.once('close', this.onClose);
    this.alive();
  }

  private readonly onClose = (code: number) =>
    this.fail(new Error(`${this.what}: the operator's socket closed (${code})`));

  /** Something arrived: the idle timer starts again. */
  alive(): void {
    if (this.settled) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.fail(new Error(`${this.what}: nothing arrived for ${this.idleMs} ms`)),
      this.idleMs,
    );
  }

  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  done(value: T): void {
    if (this.finish()) this.settle.resolve(value);
  }

  fail(error: Error): void {
    if (this.finish()) this.settle.reject(error);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    this.client.socket.off('close', this.onClose);
    this.client.release(this.channel);
    return true;
  }
}

import { encodeShellData, MAX_SHELL_BYTES, type ShellStreamId } from '../../protocol/index.ts';
import type { ChannelScope } from './channel-scope.ts';

/**
 * Sends bytes of a shell or a command as shell-data frames of at most MAX_SHELL_BYTES, and holds the
 * producer back while the socket is congested: `pause` at once, `resume` when it has drained.
 */
export class StreamOut {
  private holding = false;

  constructor(
    private readonly scope: ChannelScope,
    private readonly producer: { pause(): void; resume(): void },
  ) {}

  send(stream: ShellStreamId, data: Uint8Array): void {
    for (let at = 0; at < data.byteLength; at += MAX_SHELL_BYTES) {
      const part = data.subarray(at, at + MAX_SHELL_BYTES);
      this.scope.sendBytes(encodeShellData({ channel: this.scope.id, stream, data: part }));
    }
    if (this.holding || this.scope.ended || !this.scope.uplink.congested()) return;
    this.holding = true;
    this.producer.pause();
    void this.scope.uplink.drained().then(() => {
      this.holding = false;
      if (!this.scope.ended) this.producer.resume();
    });
  }
}

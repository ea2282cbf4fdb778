import { type MessageOf, ShellStream } from '../../protocol/index.ts';
import type { ChannelHandler, ChannelScope } from './channel-scope.ts';
import type { CommandHost, CommandProcess, ProcessExit } from './ports.ts';
import { StreamOut } from './stream-out.ts';

/**
 * One command (`exec`): run by the platform's shell without input, stdout on stream 1 and stderr on
 * stream 2, stopped when its output passes `maxOutputBytes` (truncated) or it runs past `timeoutMs`
 * (timedOut), and `shell-exit` after its last output. Closing the channel kills it and what it started.
 */
export class CommandChannel implements ChannelHandler {
  readonly capability = 'shell';
  private process: CommandProcess | undefined;
  private closed = false;
  private outputBytes = 0;
  private truncated = false;
  private timedOut = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly startedAt = Date.now();
  private readonly out: StreamOut;

  constructor(
    private readonly scope: ChannelScope,
    host: CommandHost,
    private readonly request: MessageOf<'exec'>,
  ) {
    this.out = new StreamOut(scope, {
      pause: () => this.process?.pause(),
      resume: () => this.process?.resume(),
    });
    host
      .run({
        command: request.command,
        cwd: request.cwd ?? '',
        onOutput: (stream, data) => this.output(stream, data),
        onExit: (exit) => this.exit(exit),
      })
      .then(
        (process) => {
          this.process = process;
          if (this.closed || this.truncated) {
            process.kill();
            return;
          }
          this.timer = setTimeout(() => {
            this.timedOut = true;
            process.kill();
          }, request.timeoutMs);
        },
        (error: unknown) => scope.fail(error),
      );
  }

  private output(stream: 'stdout' | 'stderr', data: Uint8Array): void {
    if (this.scope.ended || this.truncated) return;
    const room = this.request.maxOutputBytes - this.outputBytes;
    const part = data.byteLength > room ? data.subarray(0, room) : data;
    this.outputBytes += part.byteLength;
    if (part.byteLength > 0)
      this.out.send(stream === 'stdout' ? ShellStream.stdout : ShellStream.stderr, part);
    if (data.byteLength > room) {
      this.truncated = true;
      this.process?.kill();
    }
  }

  private exit(exit: ProcessExit): void {
    clearTimeout(this.timer);
    this.scope.send({
      type: 'shell-exit',
      channel: this.scope.id,
      exitCode: exit.exitCode,
      signal: exit.signal,
      ...(this.timedOut ? { timedOut: true } : {}),
      ...(this.truncated ? { truncated: true } : {}),
      durationMs: Date.now() - this.startedAt,
    });
    this.scope.end();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.process?.kill();
  }
}

import {
  type FileChunkFrame,
  type MessageOf,
  type ShellDataFrame,
  ShellStream,
} from '../../protocol/index.ts';
import type { ChannelHandler, ChannelScope, FollowUpMessage } from './channel-scope.ts';
import type { ShellHost, TerminalProcess } from './ports.ts';
import { StreamOut } from './stream-out.ts';

/**
 * An interactive shell for an operator: `shell-open` starts it in a pseudo-terminal, its screen goes
 * out on stream 0, keystrokes come in on stream 0, `shell-resize` resizes it, and `shell-exit` says
 * when it ended. Closing the channel kills it.
 */
export class TerminalChannel implements ChannelHandler {
  readonly capability = 'shell';
  private terminal: TerminalProcess | undefined;
  private closed = false;
  private readonly out: StreamOut;

  constructor(
    scope: ChannelScope,
    host: ShellHost,
    request: MessageOf<'shell-open'>,
    report: (text: string) => void,
  ) {
    this.out = new StreamOut(scope, {
      pause: () => this.terminal?.pause(),
      resume: () => this.terminal?.resume(),
    });
    host
      .open({
        cols: request.cols,
        rows: request.rows,
        onData: (data) => {
          if (!scope.ended) this.out.send(ShellStream.terminal, data);
        },
        onExit: (exit) => {
          if (!scope.ended) report(`The command shell ${scope.operator} opened has ended.`);
          scope.send({ type: 'shell-exit', channel: scope.id, exitCode: exit.exitCode, signal: exit.signal });
          scope.end();
        },
      })
      .then(
        (terminal) => {
          this.terminal = terminal;
          if (this.closed) {
            terminal.kill();
            return;
          }
          report(`${scope.operator} opened a command shell (${terminal.shell}) on this computer.`);
          scope.send({ type: 'shell-opened', channel: scope.id, shell: terminal.shell });
        },
        (error: unknown) => scope.fail(error),
      );
  }

  frame(frame: FileChunkFrame | ShellDataFrame): void {
    if (frame.kind === 'shell' && frame.stream === ShellStream.terminal) this.terminal?.write(frame.data);
  }

  control(message: FollowUpMessage): void {
    if (message.type === 'shell-resize') this.terminal?.resize(message.cols, message.rows);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.terminal?.kill();
  }
}

import { constants } from 'node:os';
import { ChannelFailure } from '../core/channel-failure.ts';
import type { ShellHost, TerminalProcess } from '../core/ports.ts';
import { loadPty } from '../platform/pty-module.ts';
import type { LiveProcesses } from './live-processes.ts';
import { type SystemShell, systemShell } from './system-shell.ts';

/** How long a hung-up shell may take to exit before it and its process group are killed, in milliseconds. */
const HANG_UP_GRACE_MS = 2_000;
/** What terminal the shell is told it runs in; xterm.js in the console speaks it. */
const TERMINAL_NAME = 'xterm-256color';

const encoder = new TextEncoder();

function signalName(signal: number | undefined): string | null {
  if (!signal) return null;
  return Object.entries(constants.signals).find(([, number]) => number === signal)?.[0] ?? `SIG${signal}`;
}

export interface PtyShellHostOptions {
  /** The shared folder (absolute, real): shells start there. */
  root: string;
  /** Shells still running, stopped when the agent exits. */
  live: LiveProcesses;
  shell?: SystemShell;
}

/**
 * Interactive shells in pseudo-terminals with node-pty (ConPTY on Windows), loaded through
 * `loadPty()` so the packaged agent finds its unpacked copy. Each shell starts in the shared folder
 * with this process's environment, TERM=xterm-256color and its mark (`LiveProcesses.mark`); when it
 * ends, whatever it started that still runs is killed, however it detached.
 */
export function createPtyShellHost(options: PtyShellHostOptions): ShellHost {
  const system = options.shell ?? systemShell();
  return {
    async open({ cols, rows, onData, onExit }): Promise<TerminalProcess> {
      let pty: ReturnType<typeof loadPty>;
      try {
        pty = loadPty();
      } catch (error) {
        throw new ChannelFailure('NOT_SUPPORTED', (error as Error).message, { cause: error });
      }
      const { file, args } = system.interactive();
      const mark = options.live.mark();
      let terminal: ReturnType<typeof pty.spawn>;
      try {
        terminal = pty.spawn(file, args, {
          name: TERMINAL_NAME,
          cols,
          rows,
          cwd: options.root,
          env: { ...process.env, ...mark.env, TERM: TERMINAL_NAME },
          encoding: system.ptyEncoding,
        });
      } catch (error) {
        throw new ChannelFailure(
          'IO_ERROR',
          `The shell ${file} could not start: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      let exited = false;
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const kill = () => {
        if (exited) return;
        system.hangUp(terminal.pid);
        terminal.kill();
        killTimer ??= setTimeout(() => {
          if (exited) return;
          system.killCommand(terminal.pid);
          mark.sweep([terminal.pid]);
        }, HANG_UP_GRACE_MS);
        killTimer.unref?.();
      };
      const forget = options.live.add(kill);
      // With `encoding: null` node-pty hands over Buffers, although its types say string.
      terminal.onData((data: string | Buffer) =>
        onData(typeof data === 'string' ? encoder.encode(data) : data),
      );
      terminal.onExit(({ exitCode, signal }) => {
        exited = true;
        clearTimeout(killTimer);
        forget();
        // Jobs the shell left behind (`nohup`, `setsid`, `disown`, a double fork) end with it.
        mark.sweep();
        onExit({ exitCode: signal ? null : exitCode, signal: signalName(signal) });
      });
      return {
        shell: file,
        write: (data) => terminal.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
        resize: (newCols, newRows) => {
          if (!exited) terminal.resize(newCols, newRows);
        },
        pause: () => terminal.pause(),
        resume: () => terminal.resume(),
        kill,
      };
    },
  };
}

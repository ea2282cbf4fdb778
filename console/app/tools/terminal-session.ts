import { encodeShellData, MAX_SHELL_BYTES, ShellStream } from '../../../protocol/index.ts';
import { channelErrorText } from './channel-errors.ts';
import type { ChannelFrame, ChannelMessage, ChannelPort } from './operator-channels.ts';
import { Store } from './store.ts';

/** Output kept while no terminal is attached to show it, in bytes; older output is dropped. */
const MAX_PENDING_OUTPUT_BYTES = 1024 * 1024;

/**
 * idle (never opened) → opening (shell-open sent) → open (shell-opened) → exited (the shell
 * ended) or closed (closed here, refused, revoked or cut off).
 */
export type TerminalStatus = 'idle' | 'opening' | 'open' | 'exited' | 'closed';

export interface TerminalState {
  /** Stable for the tab's lifetime (the channel changes with every Reopen). */
  id: number;
  title: string;
  status: TerminalStatus;
  /** The shell the agent started, once it said. */
  shell: string | null;
  /** Why it is no longer open: "Shell exited with code 0", a refusal, a revoked permission. */
  ended: string | null;
}

/** Where the terminal's output goes: the xterm.js instance of the tab. */
export type OutputSink = (bytes: Uint8Array) => void;

const encoder = new TextEncoder();

/**
 * One interactive shell on the device: `shell-open` with the terminal's size, keystrokes and
 * output as shell-data frames on stream 0, `shell-resize`, and `shell-exit` when it ends.
 * @example
 * const shell = new TerminalSession(router, 1);
 * shell.attach((bytes) => xterm.write(bytes));
 * shell.open(xterm.cols, xterm.rows);
 * xterm.onData((data) => shell.input(data));
 */
export class TerminalSession extends Store<TerminalState> {
  readonly #port: ChannelPort;
  #channel: number | undefined;
  #sink: OutputSink | undefined;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #size = { cols: 80, rows: 24 };

  constructor(port: ChannelPort, id: number) {
    super({ id, title: `Shell ${id}`, status: 'idle', shell: null, ended: null });
    this.#port = port;
  }

  /** Sends output to `sink` from now on, starting with whatever arrived before. */
  attach(sink: OutputSink): () => void {
    this.#sink = sink;
    for (const bytes of this.#pending) sink(bytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    return () => {
      if (this.#sink === sink) this.#sink = undefined;
    };
  }

  /** Starts a shell of `cols` × `rows` (again, after it ended). */
  open(cols: number, rows: number): void {
    if (this.state.status === 'opening' || this.state.status === 'open') return;
    this.#size = { cols: clampSize(cols), rows: clampSize(rows) };
    const channel = this.#port.open({
      onChannelMessage: (message) => this.#onMessage(message),
      onChannelFrame: (frame) => this.#onFrame(frame),
    });
    if (channel === undefined) {
      this.update({ status: 'closed', ended: 'Not connected to the relay.' });
      return;
    }
    this.#channel = channel;
    this.update({ status: 'opening', ended: null, shell: null });
    this.#port.send({ type: 'shell-open', channel, ...this.#size });
  }

  /** Keystrokes (and pasted text) from the terminal. */
  input(data: string | Uint8Array): void {
    const channel = this.#channel;
    if (channel === undefined || this.state.status !== 'open') return;
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    for (let at = 0; at < bytes.byteLength; at += MAX_SHELL_BYTES) {
      this.#port.sendFrame(
        encodeShellData({
          channel,
          stream: ShellStream.terminal,
          data: bytes.subarray(at, at + MAX_SHELL_BYTES),
        }),
      );
    }
  }

  /** The terminal was resized to `cols` × `rows` characters. */
  resize(cols: number, rows: number): void {
    const size = { cols: clampSize(cols), rows: clampSize(rows) };
    if (size.cols === this.#size.cols && size.rows === this.#size.rows) return;
    this.#size = size;
    const channel = this.#channel;
    if (channel !== undefined && (this.state.status === 'open' || this.state.status === 'opening')) {
      this.#port.send({ type: 'shell-resize', channel, ...size });
    }
  }

  /** Closes the shell (the agent kills it). */
  close(): void {
    const channel = this.#channel;
    if (channel === undefined) return;
    this.#port.send({ type: 'channel-close', channel });
    this.#end('You closed the shell.');
  }

  /** The shell can no longer run: `reason` says why (revoked, connection lost). */
  cutOff(reason: string, abandoned = false): void {
    const channel = this.#channel;
    if (channel === undefined) return;
    if (abandoned) {
      this.#channel = undefined;
      this.#port.abandon(channel);
      this.update({ status: 'closed', ended: reason });
      return;
    }
    this.#end(reason);
  }

  #onMessage(message: ChannelMessage): void {
    switch (message.type) {
      case 'shell-opened':
        this.update({ status: 'open', shell: message.shell });
        return;
      case 'shell-exit':
        this.#end(exitText(message.exitCode, message.signal), 'exited');
        return;
      case 'channel-error':
        this.#end(channelErrorText(message, 'shell'));
        return;
      case 'channel-close':
        this.#end('The device closed the shell.');
        return;
      default:
        return;
    }
  }

  #onFrame(frame: ChannelFrame): void {
    if (frame.kind !== 'shell' || frame.stream !== ShellStream.terminal) return;
    if (this.#sink) {
      this.#sink(frame.data);
      return;
    }
    this.#pending.push(frame.data.slice());
    this.#pendingBytes += frame.data.byteLength;
    while (this.#pendingBytes > MAX_PENDING_OUTPUT_BYTES && this.#pending.length > 1) {
      this.#pendingBytes -= this.#pending.shift()?.byteLength ?? 0;
    }
  }

  #end(reason: string, status: TerminalStatus = 'closed'): void {
    if (this.#channel !== undefined) this.#port.release(this.#channel);
    this.#channel = undefined;
    this.update({ status, ended: reason });
  }
}

/** "Shell exited with code 0", or the signal that ended it. */
export function exitText(exitCode: number | null, signal: string | null): string {
  if (exitCode !== null) return `Shell exited with code ${exitCode}`;
  if (signal) return `Shell was ended by ${signal}`;
  return 'Shell exited';
}

function clampSize(value: number): number {
  return Math.min(1000, Math.max(1, Math.floor(value) || 1));
}

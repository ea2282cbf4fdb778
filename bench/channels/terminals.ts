import { loadPty } from '../../agent/platform/pty-module.ts';
import { encodeShellData, ShellStream } from '../../protocol/index.ts';
import { BenchFailure } from '../support/failure.ts';
import { sleep } from '../support/net.ts';
import { track } from '../support/processes.ts';
import type { OperatorClient } from './operator-client.ts';

/** Terminal size asked for, in characters. */
const COLS = 120;
const ROWS = 40;
/** How long one keystroke may take to come back before it counts as lost, in ms. */
const ECHO_TIMEOUT_MS = 10_000;
/** Pause between keystrokes, in ms: a fast typist, not a paste. */
const TYPING_PAUSE_MS = 5;
/**
 * Turns the terminal raw (no line discipline, no kernel echo) and leaves `cat` as the only program
 * in it, so each byte typed comes back exactly once, from `cat`. The quotes keep the shell's echo of
 * this line from containing the READY that printf prints once the terminal is raw.
 */
const SETUP = "stty raw -echo; printf 'RE''ADY'; exec cat\r";
const READY = 'READY';

/** A terminal to type into: through the relay to the agent's PTY, or a local PTY. */
export interface EchoTerminal {
  write(data: Uint8Array): void;
  /** Called with everything the terminal prints. */
  onData: ((data: Uint8Array) => void) | undefined;
  close(): Promise<void>;
}

/**
 * Types keystrokes one at a time into `cat` running raw in a terminal and times each until it comes
 * back. A keystroke that does not come back, or comes back as something else, is a `BenchFailure`.
 *
 * @example
 * const probe = await EchoProbe.start(openLocalShell(dir), 'local shell');
 * const ms = await probe.type(100);
 */
export class EchoProbe {
  private text = '';
  private base = 0;
  private typed = '';
  private waiter: (() => void) | undefined;

  private constructor(
    readonly terminal: EchoTerminal,
    private readonly what: string,
  ) {
    terminal.onData = (data) => {
      this.text += Buffer.from(data).toString('latin1');
      this.waiter?.();
    };
  }

  /** Turns the terminal's shell into a raw `cat` and waits until it runs. */
  static async start(terminal: EchoTerminal, what: string): Promise<EchoProbe> {
    const probe = new EchoProbe(terminal, what);
    terminal.write(Buffer.from(SETUP, 'latin1'));
    await probe.until(
      () => probe.text.includes(READY),
      ECHO_TIMEOUT_MS * 3,
      () => `${what}: the shell never ran cat; it printed ${JSON.stringify(probe.text.slice(-300))}`,
    );
    probe.base = probe.text.indexOf(READY) + READY.length;
    const early = probe.text.slice(probe.base);
    if (early) throw new BenchFailure(`${what}: unexpected output ${JSON.stringify(early)} before typing`);
    return probe;
  }

  /** Types `count` keystrokes; returns the ms each took to come back. */
  async type(count: number): Promise<number[]> {
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const key = String.fromCharCode(97 + (this.typed.length % 26));
      this.typed += key;
      const started = performance.now();
      this.terminal.write(Buffer.from(key, 'latin1'));
      await this.until(
        () => this.text.length - this.base >= this.typed.length,
        ECHO_TIMEOUT_MS,
        () => `${this.what}: keystroke ${this.typed.length} was lost (no echo within ${ECHO_TIMEOUT_MS} ms)`,
      );
      latencies.push(performance.now() - started);
      const echoed = this.text.slice(this.base);
      if (echoed !== this.typed) {
        throw new BenchFailure(
          `${this.what}: typed ${JSON.stringify(this.typed.slice(-20))}, the terminal echoed ${JSON.stringify(echoed.slice(-20))}`,
        );
      }
      await sleep(TYPING_PAUSE_MS);
    }
    return latencies;
  }

  /** Keystrokes typed so far, every one of which came back. */
  get keystrokes(): number {
    return this.typed.length;
  }

  private until(condition: () => boolean, timeoutMs: number, failure: () => string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new BenchFailure(failure()));
      }, timeoutMs);
      this.waiter = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiter = undefined;
        resolve();
      };
    });
  }
}

/** The agent's shell through the relay: `shell-open`, keystrokes and output as shell-data frames. */
export async function openRelayShell(client: OperatorClient): Promise<EchoTerminal & { shell: string }> {
  const channel = client.ids.next();
  let exited!: () => void;
  const hasExited = new Promise<void>((resolve) => {
    exited = resolve;
  });
  let opened!: (shell: string) => void;
  let refused!: (error: Error) => void;
  const isOpen = new Promise<string>((resolve, reject) => {
    opened = resolve;
    refused = reject;
  });
  const terminal: EchoTerminal & { shell: string } = {
    shell: '',
    onData: undefined,
    write: (data) => client.sendBytes(encodeShellData({ channel, stream: ShellStream.terminal, data })),
    async close() {
      client.send({ type: 'channel-close', channel });
      // The agent kills the shell; a shell-exit may or may not follow a close the operator asked for.
      await Promise.race([hasExited, sleep(3_000)]);
      client.release(channel);
    },
  };
  client.claim(channel, {
    control: (message) => {
      if (message.type === 'shell-opened') opened(message.shell);
      if (message.type === 'channel-error') refused(new Error(`shell: ${message.code} ${message.message}`));
      if (message.type === 'shell-exit' || message.type === 'channel-error') exited();
    },
    frame: (frame) => {
      if (frame.kind === 'shell' && frame.stream === ShellStream.terminal) terminal.onData?.(frame.data);
    },
  });
  client.send({ type: 'shell-open', channel, cols: COLS, rows: ROWS });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    terminal.shell = await Promise.race([
      isOpen,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BenchFailure('the agent did not open a shell')), ECHO_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    client.release(channel);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return terminal;
}

/** The baseline: the same shell in a local PTY with node-pty, no relay, no WebSocket, no agent. */
export function openLocalShell(cwd: string): EchoTerminal & { pid: number } {
  const pty = loadPty();
  const process_ = pty.spawn(process.env['SHELL'] || '/bin/sh', [], {
    name: 'xterm-256color',
    cols: COLS,
    rows: ROWS,
    cwd,
    env: { ...process.env, TERM: 'xterm-256color' },
    encoding: null,
  });
  track(process_.pid);
  let exited = false;
  const hasExited = new Promise<void>((resolve) =>
    process_.onExit(() => {
      exited = true;
      resolve();
    }),
  );
  const terminal: EchoTerminal & { pid: number } = {
    pid: process_.pid,
    onData: undefined,
    write: (data) => process_.write(Buffer.from(data)),
    async close() {
      if (!exited) process_.kill('SIGHUP');
      await Promise.race([hasExited, sleep(3_000)]);
      if (!exited) process_.kill('SIGKILL');
    },
  };
  // With `encoding: null` node-pty hands over Buffers, although its types say string.
  process_.onData((data: string | Buffer) =>
    terminal.onData?.(typeof data === 'string' ? Buffer.from(data) : data),
  );
  return terminal;
}

import { type ChildProcess, spawn } from 'node:child_process';
import type { ClipboardHost } from '../core/ports.ts';
import type { ClipboardCommands } from '../platform/platform.ts';

/** Most bytes of clipboard text read, in bytes; the rest is not read (more than can be shared anyway). */
const MAX_READ_BYTES = 1024 * 1024;
/** How long one read may take before it counts as failed, in ms, unless the platform says otherwise. */
const READ_TIMEOUT_MS = 2_000;

/**
 * The clipboard through the platform's programs (xclip on X11). A write whose program keeps serving
 * the text (xclip) is stopped when the next text is written, at `close`, or when the agent exits,
 * so that the agent never leaves one behind.
 */
export function commandClipboard(commands: ClipboardCommands): ClipboardHost {
  const env = { ...process.env, ...commands.env };
  let serving: ChildProcess | undefined;

  function start(argv: readonly string[], stdin: 'pipe' | 'ignore'): ChildProcess {
    const [program = '', ...args] = argv;
    const child = spawn(program, args, { env, stdio: [stdin, 'pipe', 'ignore'] });
    child.once('error', () => {});
    // An agent that exits through process.exit() takes its children down at once.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('close', () => process.removeListener('exit', killOnExit));
    child.once('error', () => process.removeListener('exit', killOnExit));
    return child;
  }

  return {
    read() {
      return new Promise((resolve) => {
        const child = start(commands.read, 'ignore');
        const chunks: Buffer[] = [];
        let bytes = 0;
        const timer = setTimeout(() => child.kill('SIGKILL'), commands.readTimeoutMs ?? READ_TIMEOUT_MS);
        child.stdout?.on('data', (chunk: Buffer) => {
          if (bytes >= MAX_READ_BYTES) return;
          chunks.push(chunk);
          bytes += chunk.byteLength;
        });
        child.once('error', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          if (signal) resolve(undefined);
          // xclip exits 1 when the clipboard holds no text: an empty clipboard, not a failure.
          else resolve(code === 0 ? Buffer.concat(chunks).toString('utf8') : '');
        });
      });
    },
    write(text) {
      serving?.kill();
      const child = start(commands.write, 'pipe');
      serving = child;
      return new Promise((resolve, reject) => {
        child.once('error', (error) => reject(error));
        child.once('spawn', () => {
          child.stdin?.end(text, 'utf8', () => resolve());
        });
      });
    },
    async close() {
      const child = serving;
      serving = undefined;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    },
  };
}

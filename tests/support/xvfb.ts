import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** How long Xvfb may take to report its display number before start-up counts as failed, in ms. */
const START_TIMEOUT_MS = 10_000;
/** How long stop() waits after SIGTERM before it sends SIGKILL, in ms. */
const STOP_GRACE_MS = 2_000;

/** A running virtual X server. */
export interface Xvfb {
  /** The display name to put in `DISPLAY`, for example `:3`. */
  display: string;
  width: number;
  height: number;
  /** The Xvfb process id, so a test can assert nothing outlives it. */
  pid: number;
  /** Kills the server and resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a real `Xvfb` on a free display number and resolves once it accepts connections. The
 * server keeps its state between clients (`-noreset`) and is killed if the test process exits.
 *
 * `-displayfd` makes Xvfb pick the first free display itself and write its number only after it is
 * listening, which avoids both a probe race with parallel test runs and a poll for readiness.
 *
 * @example
 * const x = await startXvfb({ width: 800, height: 600 });
 * try {
 *   await runX('xsetroot', ['-solid', '#ff0000'], x.display);
 * } finally {
 *   await x.stop();
 * }
 */
export async function startXvfb(opts: { width?: number; height?: number } = {}): Promise<Xvfb> {
  const width = opts.width ?? 1280;
  const height = opts.height ?? 720;
  const child = spawn(
    'Xvfb',
    // -noreset: by default the server resets when its last client disconnects, which undoes what a
    // one-shot client like xsetroot just did.
    ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-noreset'],
    // fd 3 is the pipe Xvfb writes its display number to.
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] },
  );
  const exited = waitForExit(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });

  let display: string;
  try {
    display = await readDisplayNumber(child, exited, () => stderr);
  } catch (error) {
    await kill(child, exited);
    throw error;
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('Xvfb has no pid');
  // A test process that crashes or forgets stop() must not leave the server running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  return {
    display,
    width,
    height,
    pid,
    stop: () => {
      process.removeListener('exit', killOnExit);
      stopping ??= kill(child, exited);
      return stopping;
    },
  };
}

function readDisplayNumber(
  child: ChildProcess,
  exited: Promise<void>,
  stderr: () => string,
): Promise<string> {
  const pipe = child.stdio[3];
  if (!pipe || !('on' in pipe)) return Promise.reject(new Error('Xvfb display pipe is missing'));
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => reject(new Error(`Xvfb did not report a display within ${START_TIMEOUT_MS} ms: ${stderr()}`)),
      START_TIMEOUT_MS,
    );
    pipe.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = /^(\d+)\n/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(`:${match[1]}`);
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(
        new Error(`could not start Xvfb (is the xvfb package installed?): ${error.message}`, {
          cause: error,
        }),
      );
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited before it was ready: ${stderr()}`));
    });
  });
}

/** Resolves when the child has exited, or at once if it never started. */
function waitForExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * Runs an X client tool (`xdotool`, `xsetroot`, `xdpyinfo`, …) against `display` and returns its stdout.
 * Rejects with the tool's stderr when it exits non-zero.
 *
 * @example
 * const where = await runX('xdotool', ['getmouselocation', '--shell'], x.display);
 */
export async function runX(command: string, args: readonly string[], display: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, [...args], {
      env: { ...process.env, DISPLAY: display },
      timeout: 10_000,
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${command} ${args.join(' ')} failed on ${display}: ${stderr.trim()}`, { cause: error });
  }
}

/** Parses `xdotool getmouselocation --shell` output into the pointer's root coordinates. */
export async function pointerLocation(display: string): Promise<{ x: number; y: number }> {
  const out = await runX('xdotool', ['getmouselocation', '--shell'], display);
  const x = /^X=(\d+)$/m.exec(out)?.[1];
  const y = /^Y=(\d+)$/m.exec(out)?.[1];
  if (x === undefined || y === undefined) throw new Error(`unexpected xdotool output: ${out}`);
  return { x: Number(x), y: Number(y) };
}

import { spawn } from 'node:child_process';
import { isAlive } from '../../tests/support/processes.ts';
import { commandName, processTree, track } from '../support/processes.ts';

/** How long a child may take to say it is ready, in ms. */
const READY_TIMEOUT_MS = 30_000;
/** How long a child may take to stop after being asked, before SIGKILL, in ms. */
const STOP_TIMEOUT_MS = 10_000;
/** Output kept to explain a failure, in characters. */
const OUTPUT_TAIL_CHARS = 4_000;

/** A TypeScript entry running under tsx in its own process, talking over the IPC channel. */
export interface BenchChild<Ready> {
  pid: number;
  /** What the child sent with `{ type: 'ready', ... }`. */
  ready: Ready;
  /** The last few KB of its output. */
  output(): string;
  /**
   * Its descendants alive right now (shells, commands), remembered for `survivors`; tsx's esbuild
   * service, which lives as long as the child, is not counted.
   */
  descendants(): number[];
  /** Every process seen under it (by `descendants` or `stop`) that is still alive. */
  survivors(): number[];
  /** Sends `message` and resolves with its answer: the next message of the same type and id. */
  request<T>(message: { type: string; id: number }): Promise<T>;
  /** Asks it to stop (`{ type: 'stop' }`) and resolves with its last message before exit, if any. */
  stop(): Promise<unknown>;
}

/**
 * Starts `entry` under tsx with `env` added and resolves once it sends `{ type: 'ready' }`. The
 * child and everything it starts are tracked, so the benchmark's leftover check covers them.
 */
export async function startChild<Ready>(
  what: string,
  entry: string,
  env: Record<string, string>,
): Promise<BenchChild<Ready>> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${what}`);
  track(pid);
  const seen = new Set<number>([pid]);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let last: unknown;
  child.on('message', (message) => {
    last = message;
  });

  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what} was not ready within ${READY_TIMEOUT_MS} ms: ${output}`)),
      READY_TIMEOUT_MS,
    );
    child.on('message', (message: { type?: string }) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve(message as Ready);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${what} exited during start-up: ${output}`));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });

  return {
    pid,
    ready,
    output: () => output,
    descendants() {
      const tree = processTree(pid).slice(1);
      for (const member of tree) seen.add(member);
      track(pid);
      return tree.filter((member) => isAlive(member) && commandName(member) !== 'esbuild');
    },
    survivors: () => [...seen].filter((member) => isAlive(member)),
    request<T>(message: { type: string; id: number }) {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`${what} did not answer a ${message.type} request: ${output}`));
        }, READY_TIMEOUT_MS);
        const onMessage = (answer: { type?: string; id?: number }) => {
          if (answer.type !== message.type || answer.id !== message.id) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(answer as T);
        };
        child.on('message', onMessage);
        child.send(message);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return last;
      for (const member of processTree(pid)) seen.add(member);
      track(pid);
      if (child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      return last;
    },
  };
}

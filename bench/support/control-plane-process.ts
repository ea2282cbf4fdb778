import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ADMIN_PASSWORD, ADMIN_USERNAME } from '../../tests/support/control-plane.ts';
import type { BufferWatch, ControlPlaneStats } from './control-plane-main.ts';
import { track } from './processes.ts';

const ENTRY = fileURLToPath(new URL('./control-plane-main.ts', import.meta.url));
/** How long the control plane may take to open its database and listen, in ms. */
const START_TIMEOUT_MS = 30_000;
/** How long a stats request may take, in ms. */
const STATS_TIMEOUT_MS = 5_000;

/** A control plane running in a child process on a free loopback port. */
export interface ControlPlaneProcess {
  url: string;
  pid: number;
  username: string;
  password: string;
  /**
   * The relay's counters, the process's memory and its event-loop delay, asked for over IPC;
   * `reset` starts a new event-loop delay window.
   */
  stats(options?: { reset?: boolean }): Promise<ControlPlaneStats>;
  /**
   * Starts sampling the relay's per-connection send queues, or stops and answers with the largest
   * seen since the start.
   */
  bufferWatch(action: 'start' | 'stop'): Promise<BufferWatch>;
  stop(): Promise<void>;
}

/**
 * Starts `control-plane-main.ts` under tsx and resolves once it listens.
 *
 * @example
 * const cp = await startControlPlaneProcess();
 * try {
 *   console.log((await cp.stats()).relay.sessions);
 * } finally {
 *   await cp.stop();
 * }
 */
export async function startControlPlaneProcess(
  options: { host?: string } = {},
): Promise<ControlPlaneProcess> {
  const child = spawn(process.execPath, [...profiling(), '--import', 'tsx', ENTRY], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      ...process.env,
      TEST_LOG_LEVEL: 'silent',
      ...(options.host ? { BENCH_CONTROL_PLANE_HOST: options.host } : {}),
    },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the control plane');
  track(pid);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the control plane did not start within ${START_TIMEOUT_MS} ms: ${output}`)),
      START_TIMEOUT_MS,
    );
    child.on('message', (message: { type?: string; url?: string }) => {
      if (message.type === 'ready' && message.url) {
        clearTimeout(timer);
        resolve(message.url);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the control plane exited during start-up: ${output}`));
    });
  });

  let nextId = 1;
  return {
    url,
    pid,
    username: ADMIN_USERNAME,
    password: ADMIN_PASSWORD,
    stats: (options) =>
      request<ControlPlaneStats>(child, { type: 'stats', id: nextId++, reset: options?.reset ?? false }),
    bufferWatch: (action) => request<BufferWatch>(child, { type: 'buffer-watch', id: nextId++, action }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Sends `message` and resolves with the child's answer of the same type and id. */
function request<T extends { type: string; id: number }>(
  child: ChildProcess,
  message: { type: T['type']; id: number } & Record<string, unknown>,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`the control plane did not answer a ${message.type} request`));
    }, STATS_TIMEOUT_MS);
    const onMessage = (answer: T) => {
      if (answer.type !== message.type || answer.id !== message.id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(answer);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

/**
 * `LIFELINE_BENCH_CP_PROF=<folder>`: the control plane writes a V8 CPU profile there when it exits
 * (open it in Chrome's DevTools), to find where a figure's time goes.
 */
function profiling(): string[] {
  const folder = process.env['LIFELINE_BENCH_CP_PROF'];
  return folder ? ['--cpu-prof', `--cpu-prof-dir=${folder}`] : [];
}

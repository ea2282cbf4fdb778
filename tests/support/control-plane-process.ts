import type { ApiTarget } from './api.ts';
import { ADMIN_PASSWORD } from './control-plane.ts';
import { type Spawned, spawnCollecting, waitFor } from './processes.ts';

/** What the control plane prints once it listens. */
const LISTENING = 'Lifeline control plane: open';

export interface ControlPlaneProcess extends ApiTarget {
  /** http://127.0.0.1:PORT, or the `LIFELINE_PUBLIC_URL` the caller gave (https:// for TLS). */
  url: string;
  process: Spawned;
  /** Sends the signal and waits for the process to exit; resolves to its exit code (null when killed). */
  stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
}

/**
 * The real control plane (`control-plane/main.ts`, as `npm start` runs it) in its own process, on a
 * data directory and port the caller chooses, so a test can stop it and start it again on the same
 * ones. Resolves once it listens.
 */
export async function startControlPlaneProcess(options: {
  dataDir: string;
  port: number;
  env?: Record<string, string>;
}): Promise<ControlPlaneProcess> {
  const url = options.env?.['LIFELINE_PUBLIC_URL'] ?? `http://127.0.0.1:${options.port}`;
  const child = spawnCollecting(process.execPath, ['--import', 'tsx', 'control-plane/main.ts'], {
    ...process.env,
    PORT: String(options.port),
    HOST: '127.0.0.1',
    LIFELINE_DATA_DIR: options.dataDir,
    LIFELINE_PUBLIC_URL: url,
    LIFELINE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'info',
    ...options.env,
  });
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  try {
    const state = await waitFor(
      'the control plane to listen',
      () => (exited ? 'exited' : child.output().includes(LISTENING) && 'listening'),
      30_000,
    );
    if (state === 'exited')
      throw new Error(`the control plane exited before it listened:\n${child.output()}`);
  } catch (error) {
    await child.kill();
    throw error;
  }
  return {
    url,
    process: child,
    app: { request: (input, init) => fetch(new URL(String(input), url), init) },
    async stop(signal) {
      if (!exited) child.child.kill(signal);
      return child.exited;
    },
  };
}

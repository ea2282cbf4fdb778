import { spawn } from 'node:child_process';
import { ShellStream } from '../../protocol/index.ts';
import { BenchFailure } from '../support/failure.ts';
import { ChannelCall } from './channel-call.ts';
import type { OperatorClient } from './operator-client.ts';

/** The command timed: tiny, so what is measured is the way there and back, not the command. */
export const PROBE_COMMAND = 'echo x';
/** What it prints. */
export const PROBE_OUTPUT = 'x\n';
/** Limits sent with each exec: generous, never reached. */
const EXEC_TIMEOUT_MS = 30_000;
const EXEC_MAX_OUTPUT_BYTES = 64 * 1024;

/**
 * Runs PROBE_COMMAND on the agent (`exec`, output frames, `shell-exit`) and returns the ms from
 * sending exec to receiving shell-exit. Wrong output or a non-zero exit is a `BenchFailure`.
 */
export async function relayExec(client: OperatorClient): Promise<number> {
  let stdout = '';
  let stderr = '';
  const started = performance.now();
  const call = new ChannelCall<number>(client, 'exec', {
    control(message, call) {
      if (message.type !== 'shell-exit') return;
      const ms = performance.now() - started;
      if (message.exitCode !== 0 || stdout !== PROBE_OUTPUT || stderr) {
        call.fail(
          new BenchFailure(
            `exec "${PROBE_COMMAND}" through the relay: exit ${message.exitCode} ${message.signal ?? ''}, stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr.slice(0, 200))}`,
          ),
        );
      } else {
        call.done(ms);
      }
    },
    frame(frame) {
      if (frame.kind !== 'shell') return;
      const text = Buffer.from(frame.data).toString('utf8');
      if (frame.stream === ShellStream.stdout) stdout += text;
      else stderr += text;
    },
  });
  client.send({
    type: 'exec',
    channel: call.channel,
    command: PROBE_COMMAND,
    timeoutMs: EXEC_TIMEOUT_MS,
    maxOutputBytes: EXEC_MAX_OUTPUT_BYTES,
  });
  return call.result;
}

/**
 * The baseline: the same command spawned here as the agent spawns it (`/bin/sh -c`, input closed,
 * its own process group), timed from spawn to 'close' (both output streams ended and it exited).
 */
export function localExec(cwd: string): Promise<number> {
  const started = performance.now();
  const child = spawn('/bin/sh', ['-c', PROBE_COMMAND], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  child.stdout.on('data', (data: Buffer) => {
    stdout += data.toString('utf8');
  });
  child.stderr.resume();
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0 || stdout !== PROBE_OUTPUT) {
        reject(new BenchFailure(`local "${PROBE_COMMAND}": exit ${code}, stdout ${JSON.stringify(stdout)}`));
      } else {
        resolve(ms);
      }
    });
  });
}

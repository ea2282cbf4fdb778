import { ShellStream } from '../../protocol/index.ts';
import type { ApiParticipant } from './api-participant.ts';
import { channelRequest } from './channel-request.ts';

/**
 * How long past a command's own time limit the API waits for the agent's answer, in milliseconds:
 * the agent stops the command at its limit, so only a lost agent takes longer.
 */
export const EXEC_ANSWER_GRACE_MS = 30_000;

export interface ExecRequest {
  command: string;
  cwd?: string | undefined;
  timeoutMs: number;
  maxOutputBytes: number;
}

/** A command's end and its output, byte for byte. */
export interface ExecOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  truncated: boolean;
  durationMs: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** How the API returns output: as UTF-8 text only, or as base64 as well (byte-exact, for binary output). */
export type OutputEncoding = 'utf8' | 'base64';

/** The API's answer for a command: the text fields always, their base64 too when asked for. */
export function execResult(outcome: ExecOutcome, encoding: OutputEncoding) {
  const { stdout, stderr, ...rest } = outcome;
  return {
    ...rest,
    stdout: stdout.toString('utf8'),
    stderr: stderr.toString('utf8'),
    ...(encoding === 'base64'
      ? { stdoutBase64: stdout.toString('base64'), stderrBase64: stderr.toString('base64') }
      : {}),
  };
}

/**
 * Runs one command on the agent and collects its output, at most `maxOutputBytes` of it. An aborted
 * request (the HTTP client went away) stops the command: nobody would read its result.
 */
export async function runCommand(
  participant: ApiParticipant,
  request: ExecRequest,
  signal: AbortSignal,
): Promise<ExecOutcome> {
  const started = Date.now();
  const output: Record<1 | 2, Uint8Array[]> = { 1: [], 2: [] };
  let kept = 0;
  let clipped = false;
  const exit = await channelRequest(
    participant,
    (channel) => ({
      type: 'exec',
      channel,
      command: request.command,
      ...(request.cwd !== undefined ? { cwd: request.cwd } : {}),
      timeoutMs: request.timeoutMs,
      maxOutputBytes: request.maxOutputBytes,
    }),
    (message) => (message.type === 'shell-exit' ? message : undefined),
    {
      signal,
      timeoutMs: request.timeoutMs + EXEC_ANSWER_GRACE_MS,
      data: (frame) => {
        if (
          frame.kind !== 'shell' ||
          (frame.stream !== ShellStream.stdout && frame.stream !== ShellStream.stderr)
        )
          return;
        // The agent stops the command at the limit; whatever arrives past it is not kept either.
        const room = request.maxOutputBytes - kept;
        const data = frame.data.byteLength > room ? frame.data.subarray(0, Math.max(0, room)) : frame.data;
        if (data.byteLength < frame.data.byteLength) clipped = true;
        kept += data.byteLength;
        if (data.byteLength > 0) output[frame.stream].push(data);
      },
    },
  );
  return {
    exitCode: exit.exitCode,
    signal: exit.signal,
    timedOut: exit.timedOut ?? false,
    truncated: (exit.truncated ?? false) || clipped,
    durationMs: exit.durationMs ?? Date.now() - started,
    stdout: Buffer.concat(output[ShellStream.stdout]),
    stderr: Buffer.concat(output[ShellStream.stderr]),
  };
}

import type { ControlMessage, FileChunkFrame, ShellDataFrame } from '../../protocol/index.ts';
import type { AgentChannelMessage } from '../relay/channel-router.ts';
import type { ApiParticipant } from './api-participant.ts';
import { ChannelFailure } from './channel-failure.ts';

/** How long a one-answer request (a listing, a file operation) waits for the agent, in milliseconds. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Sends one request on a new channel and resolves with the agent's answer: the first message that
 * `answer` accepts. A `channel-error` rejects with its code; so do the end of the session, the
 * timeout and an aborted HTTP request (which also closes the channel on the agent).
 */
export function channelRequest<T>(
  participant: ApiParticipant,
  request: (channel: number) => ControlMessage,
  answer: (message: AgentChannelMessage) => T | undefined,
  options: {
    signal?: AbortSignal;
    timeoutMs?: number;
    /** Bytes that arrive on the channel before the answer (a command's output). */
    data?: (frame: FileChunkFrame | ShellDataFrame) => void;
  } = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      participant.release(channel);
      outcome();
    };
    const channel = participant.open({
      data: (frame) => options.data?.(frame),
      message: (message) => {
        if (message.type === 'channel-error') {
          settle(() => reject(new ChannelFailure(message.code, message.message, { fromAgent: true })));
          return;
        }
        if (message.type === 'channel-close') {
          settle(() =>
            reject(new ChannelFailure('IO_ERROR', 'The agent closed the request without an answer.')),
          );
          return;
        }
        const result = answer(message);
        if (result !== undefined) settle(() => resolve(result));
      },
      lost: (failure) => settle(() => reject(failure)),
    });
    const timer = setTimeout(() => {
      participant.close(channel);
      settle(() => reject(new ChannelFailure('TIMEOUT', 'The agent did not answer in time.')));
    }, options.timeoutMs ?? REQUEST_TIMEOUT_MS);
    const onAbort = () => {
      participant.close(channel);
      settle(() => reject(new ChannelFailure('CONFLICT', 'The request was cancelled.')));
    };
    options.signal?.addEventListener('abort', onAbort);
    if (options.signal?.aborted) onAbort();
    else participant.send(request(channel));
  });
}

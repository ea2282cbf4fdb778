import {
  type ChannelFrame,
  type ControlMessage,
  isRelayLinkError,
  REQUEST_TIMEOUT_MS,
  requestOnChannel,
} from '../../protocol/index.ts';
import type { AgentChannelMessage } from '../relay/channel-router.ts';
import { isAgentChannelMessage } from '../relay/channel-router.ts';
import type { ApiParticipant } from './api-participant.ts';
import { ChannelFailure } from './channel-failure.ts';

export { REQUEST_TIMEOUT_MS };

/**
 * Sends one request on a new channel and resolves with the agent's answer: the first message that
 * `answer` accepts (the relay link's {@link requestOnChannel}). A `channel-error` rejects with its
 * code; so do the end of the session, the agent going away, the timeout and an aborted HTTP request
 * (which also closes the channel on the agent), each as a {@link ChannelFailure}.
 */
export async function channelRequest<T>(
  participant: ApiParticipant,
  request: (channel: number) => ControlMessage,
  answer: (message: AgentChannelMessage) => T | undefined,
  options: {
    signal?: AbortSignal;
    timeoutMs?: number;
    /** Bytes that arrive on the channel before the answer (a command's output). */
    data?: (frame: ChannelFrame) => void;
  } = {},
): Promise<T> {
  try {
    return await requestOnChannel(
      participant.requests,
      request,
      (message) => (isAgentChannelMessage(message) ? answer(message) : undefined),
      {
        ...(options.signal ? { signal: options.signal } : {}),
        timeoutMs: options.timeoutMs ?? REQUEST_TIMEOUT_MS,
        ...(options.data ? { onFrame: options.data } : {}),
      },
    );
  } catch (error) {
    if (!isRelayLinkError(error)) throw error;
    switch (error.kind) {
      case 'channel-error':
        throw new ChannelFailure(error.code ?? 'IO_ERROR', error.message, { fromAgent: true });
      case 'channel-closed':
        throw new ChannelFailure('IO_ERROR', 'The agent closed the request without an answer.');
      case 'timeout':
        throw new ChannelFailure('TIMEOUT', 'The agent did not answer in time.');
      case 'aborted':
        throw new ChannelFailure('CONFLICT', 'The request was cancelled.');
      case 'not-connected':
        throw participant.gone ?? new ChannelFailure('AGENT_OFFLINE', 'Not attached to the session.');
      default:
        throw participant.failureOf(error);
    }
  }
}

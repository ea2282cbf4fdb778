import type { ResultCode } from '../result-codes.ts';

/**
 * A channel request that was refused or could not finish: `code` is the result code of its
 * `channel-error` (or of what ended the channel under it), the message says why in words. The agent
 * throws it when it cannot serve a request; the API participant when the agent refused one.
 */
export class ChannelFailure extends Error {
  override readonly name = 'ChannelFailure';
  /** True when the agent answered the request with `channel-error` (a refusal, or a failure to start). */
  readonly fromAgent: boolean;
  constructor(
    readonly code: ResultCode,
    message: string,
    options?: { cause?: unknown; fromAgent?: boolean },
  ) {
    super(message, options);
    this.fromAgent = options?.fromAgent ?? false;
  }
}

/** True for a {@link ChannelFailure}, optionally of one result code. */
export function isChannelFailure(error: unknown, code?: ResultCode): error is ChannelFailure {
  return error instanceof ChannelFailure && (code === undefined || error.code === code);
}

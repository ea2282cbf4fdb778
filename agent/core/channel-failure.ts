import type { ResultCode } from '../../protocol/index.ts';

/**
 * A channel request that cannot be served: `kind` is the result code the operator receives in
 * `channel-error`, the message says why in words.
 */
export class ChannelFailure extends Error {
  override readonly name = 'ChannelFailure';
  constructor(
    readonly kind: ResultCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for a {@link ChannelFailure}, optionally of one kind. */
export function isChannelFailure(error: unknown, kind?: ResultCode): error is ChannelFailure {
  return error instanceof ChannelFailure && (kind === undefined || error.kind === kind);
}

/** The result code and message a failure is reported with; anything unexpected is IO_ERROR. */
export function describeFailure(error: unknown): { code: ResultCode; message: string } {
  if (isChannelFailure(error)) return { code: error.kind, message: error.message };
  return { code: 'IO_ERROR', message: error instanceof Error ? error.message : String(error) };
}

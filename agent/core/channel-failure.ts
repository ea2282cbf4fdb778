import type { ResultCode } from '../../protocol/index.ts';
import { isChannelFailure } from '../../protocol/peer/channel-failure.ts';

export { ChannelFailure, isChannelFailure } from '../../protocol/peer/channel-failure.ts';

/** The result code and message a failure is reported with; anything unexpected is IO_ERROR. */
export function describeFailure(error: unknown): { code: ResultCode; message: string } {
  if (isChannelFailure(error)) return { code: error.code, message: error.message };
  return { code: 'IO_ERROR', message: error instanceof Error ? error.message : String(error) };
}

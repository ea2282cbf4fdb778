import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ResultCode } from '../../protocol/index.ts';
import type { ChannelFailure } from '../../protocol/peer/channel-failure.ts';
import { ApiError } from '../http/problem.ts';

export { ChannelFailure, isChannelFailure } from '../../protocol/peer/channel-failure.ts';

/** The HTTP status each result code of a channel answers with; anything else is the agent's failure (502). */
const STATUS: Partial<Record<ResultCode, ContentfulStatusCode>> = {
  UNAUTHENTICATED: 401,
  CAPABILITY_NOT_ALLOWED: 403,
  REFUSED_BY_USER: 403,
  PATH_OUTSIDE_FOLDER: 403,
  FORBIDDEN: 403,
  FILE_NOT_FOUND: 404,
  FILE_EXISTS: 409,
  NOT_A_FILE: 409,
  NOT_A_FOLDER: 409,
  CHANNEL_IN_USE: 409,
  NOT_SUPPORTED: 409,
  AGENT_OFFLINE: 409,
  CONFLICT: 409,
  SESSION_ENDED: 410,
  CHECKSUM_MISMATCH: 422,
  FILE_CHANGED: 412,
  VALIDATION_FAILED: 400,
  MALFORMED: 400,
  MESSAGE_TOO_LARGE: 413,
  IO_ERROR: 502,
  TIMEOUT: 504,
};

/** The problem response for a failed channel, with the agent's own words. */
export function channelApiError(failure: ChannelFailure): ApiError {
  return new ApiError(STATUS[failure.code] ?? 502, failure.code, failure.message, { cause: failure });
}

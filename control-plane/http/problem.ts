import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Problem } from '../../protocol/api/problem.ts';
import type { ResultCode } from '../../protocol/index.ts';
import type { Logger } from '../logger.ts';

export type { Problem };

/**
 * An API failure with a result code the caller can branch on.
 * @example throw new ApiError(410, 'CODE_EXPIRED', 'This code has expired. Ask the user for a new one.');
 */
export class ApiError extends HTTPException {
  override readonly name = 'ApiError';
  constructor(
    status: ContentfulStatusCode,
    readonly code: ResultCode,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(status, { message, cause: options?.cause });
    this.headers = options?.headers ?? {};
  }
  readonly headers: Record<string, string>;
}

const TITLES: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

function codeForStatus(status: number): ResultCode {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 413) return 'MESSAGE_TOO_LARGE';
  if (status === 429) return 'TOO_FREQUENT';
  if (status < 500) return 'VALIDATION_FAILED';
  return 'INTERNAL';
}

/** Renders a problem response. */
export function problemResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: ResultCode,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  const body: Problem = {
    type: `https://lifeline.invalid/problems/${code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail,
  };
  return c.body(JSON.stringify(body), status, { ...headers, 'Content-Type': 'application/problem+json' });
}

/** The app's one `onError`: every failure leaves as a problem document; unexpected ones are logged. */
export function renderError(logger: Logger) {
  return (error: Error, c: Context): Response => {
    if (error instanceof ApiError)
      return problemResponse(c, error.status, error.code, error.message, error.headers);
    if (error instanceof HTTPException) {
      return problemResponse(c, error.status, codeForStatus(error.status), error.message || 'Request failed');
    }
    logger.error({ err: error, path: c.req.path, method: c.req.method }, 'unhandled error');
    return problemResponse(
      c,
      500,
      'INTERNAL',
      'Something went wrong on the server. The error has been logged.',
    );
  };
}

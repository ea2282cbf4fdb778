import { RESULT_CODES, type ResultCode } from '../../../protocol/index.ts';
import { type ApiRoute, type Query, urlOf } from './routes.ts';
import { noteServerDate } from './server-clock.ts';

/**
 * Failures that never reached the server, came back in a shape the console does not know, or were
 * called off by the console itself (`ABORTED`).
 */
export type ClientFailure = 'NETWORK' | 'UNEXPECTED' | 'ABORTED';

/**
 * A failed API call: the problem details' `code` and `detail`, ready to show to the operator.
 * `retryAfterSeconds` is set when the server said when to try again (429 `Retry-After`).
 */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  readonly kind: ResultCode | ClientFailure;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    kind: ResultCode | ClientFailure,
    status: number,
    detail: string,
    options?: { retryAfterSeconds?: number; cause?: unknown },
  ) {
    super(detail, { cause: options?.cause });
    this.kind = kind;
    this.status = status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export function isApiCallError(error: unknown): error is ApiCallError {
  return error instanceof ApiCallError;
}

/** Called when any call other than login answers 401, so the app can show the login form. */
let onUnauthenticated: (() => void) | undefined;

export function setUnauthenticatedHandler(handler: (() => void) | undefined): void {
  onUnauthenticated = handler;
}

const FALLBACK_DETAIL: Partial<Record<number, string>> = {
  401: 'Please sign in.',
  403: 'You are not allowed to do that.',
  404: 'Not found.',
  429: 'Too many attempts. Wait a moment and try again.',
};

function isResultCode(value: unknown): value is ResultCode {
  return typeof value === 'string' && (RESULT_CODES as readonly string[]).includes(value);
}

function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  // Retry-After may also be an HTTP date.
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** `application/problem+json`, read without trusting any field. */
interface ProblemBody {
  code?: unknown;
  title?: unknown;
  detail?: unknown;
}

async function toApiError(response: Response): Promise<ApiCallError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const problem: ProblemBody = typeof body === 'object' && body !== null ? body : {};
  const code = problem.code;
  const detail = problem.detail ?? problem.title;
  const kind = isResultCode(code) ? code : response.status === 401 ? 'UNAUTHENTICATED' : 'UNEXPECTED';
  const message =
    typeof detail === 'string' && detail.length > 0
      ? detail
      : (FALLBACK_DETAIL[response.status] ?? `The server answered ${response.status}.`);
  return new ApiCallError(kind, response.status, message, {
    retryAfterSeconds: parseRetryAfter(response.headers.get('Retry-After')),
  });
}

export interface RequestOptions {
  /** Values for the route's `{placeholders}`. */
  params?: Record<string, string>;
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Sends a fresh `Idempotency-Key`, so a create retried by the network is not made twice. */
  idempotent?: boolean;
  signal?: AbortSignal;
  /** A 401 is the caller's business (signing in, probing the cookie), not an expired sign-in. */
  quietUnauthenticated?: boolean;
}

/** A random key for `Idempotency-Key`. `crypto.randomUUID` needs a secure context; plain HTTP does not have one. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Calls one of the control plane's documented routes on the same origin with the session cookie.
 * Resolves with the parsed body (undefined for 204) or rejects with an {@link ApiCallError}.
 * @example
 * const page = await apiRequest<SessionPage>(ROUTES.listSessions, { query: { status: 'active' } });
 */
export async function apiRequest<T>(route: ApiRoute, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.idempotent) headers['Idempotency-Key'] = newIdempotencyKey();
  let response: Response;
  try {
    response = await fetch(urlOf(route, options.params, options.query), {
      method: route.method,
      credentials: 'same-origin',
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
    });
  } catch (cause) {
    if (options.signal?.aborted)
      throw new ApiCallError('ABORTED', 0, 'The request was called off.', { cause });
    throw new ApiCallError(
      'NETWORK',
      0,
      'The control plane cannot be reached. Check your network connection.',
      {
        cause,
      },
    );
  }
  noteServerDate(response.headers.get('Date'));
  if (!response.ok) {
    const error = await toApiError(response);
    if (response.status === 401 && !options.quietUnauthenticated) onUnauthenticated?.();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  try {
    return (await response.json()) as T;
  } catch (cause) {
    if (options.signal?.aborted)
      throw new ApiCallError('ABORTED', 0, 'The request was called off.', { cause });
    throw new ApiCallError(
      'UNEXPECTED',
      response.status,
      'The server sent an answer the console cannot read.',
      {
        cause,
      },
    );
  }
}

/** A short sentence for any failure, for banners. */
export function errorText(error: unknown, fallback = 'Something went wrong.'): string {
  return error instanceof Error && error.message ? error.message : fallback;
}

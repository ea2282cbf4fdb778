import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from './app-env.ts';
import { problemResponse } from './problem.ts';

/**
 * Refuses a request body past `maxBytes` with 413 MESSAGE_TOO_LARGE before a route reads it: at once
 * when its Content-Length says so, and as soon as a chunked body passes the bound. The connection is
 * closed with the answer, so the server does not go on reading (or discarding) the rest.
 * Requests for which `streams` is true (file uploads, read as they arrive) are left alone.
 */
export function limitBodies(
  maxBytes: number,
  streams: (c: Context<AppEnv>) => boolean,
): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: (c) =>
      problemResponse(
        c,
        413,
        'MESSAGE_TOO_LARGE',
        `The request body is larger than ${maxBytes} bytes. Send less, or upload files with PUT …/files/content.`,
        { Connection: 'close' },
      ),
  });
  return (c, next) => (streams(c) ? next() : limit(c, next));
}

import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError } from './problem.ts';

/** Largest JSON request body accepted, in bytes. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

/** Parses and validates a JSON body; any failure is a 400 that names the field. */
export async function readJson<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const length = Number(c.req.header('content-length') ?? 0);
  if (length > MAX_JSON_BODY_BYTES)
    throw new ApiError(413, 'MESSAGE_TOO_LARGE', 'The request body is too large.');
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ApiError(400, 'VALIDATION_FAILED', 'The request body must be JSON.');
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join('.') || 'body';
    throw new ApiError(400, 'VALIDATION_FAILED', `${field}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

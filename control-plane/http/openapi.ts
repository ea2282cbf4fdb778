import { OpenAPIHono, z } from '@hono/zod-openapi';
import { problemSchema } from '../../protocol/api/problem.ts';
import type { AppEnv } from './app-env.ts';
import { problemResponse } from './problem.ts';

/**
 * A router whose routes are described in the OpenAPI document. Validation failures leave as the one
 * problem shape, naming the field.
 */
export function createApi(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return undefined;
      const issue = result.error.issues[0];
      const field = issue?.path.join('.') || 'request';
      return problemResponse(c, 400, 'VALIDATION_FAILED', `${field}: ${issue?.message ?? 'invalid'}`);
    },
  });
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (VALIDATION_FAILED)',
  401: 'Not logged in, or the token is unknown, expired or revoked (UNAUTHENTICATED)',
  403: 'The role or token scope does not allow this (FORBIDDEN)',
  404: 'Not found',
  409: 'Conflict',
  410: 'Gone',
  422: 'The Idempotency-Key was used with another request (IDEMPOTENCY_MISMATCH)',
  429: 'Too many attempts; see Retry-After (TOO_FREQUENT)',
};

export { problemSchema };

/** Problem responses for the given statuses, for a route's `responses`. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: PROBLEM_DESCRIPTIONS[status] ?? 'Error',
        content: { 'application/problem+json': { schema: problemSchema } },
      },
    ]),
  );
}

/** The `{id}` path parameter of a resource: never empty, at most 64 characters. */
export const idParam = z.object({ id: z.string().min(1).max(64) });

/** A JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { content: { 'application/json': { schema } }, required: true } as const;
}

/** A JSON response. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** The `Idempotency-Key` header accepted by every create. */
export const idempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .min(8)
    .max(200)
    .optional()
    .openapi({ description: 'Repeat a create safely: the same key returns the first response.' }),
});

/** `{ items, nextCursor }`: every list pages the same way (the schema the clients read too). */
export { pageSchema as page } from '../../protocol/api/page.ts';

export const cookieAuth = { cookieAuth: [] };
export const bearerAuth = { bearerAuth: [] };
/** Routes open to both a console login and an API token. */
export const authenticated = [cookieAuth, bearerAuth];

export { z };

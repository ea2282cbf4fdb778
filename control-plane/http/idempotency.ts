import { createHash } from 'node:crypto';
import { and, eq, lt } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import { idempotencyKeys } from '../db/schema.ts';
import type { Services } from '../services.ts';
import type { AppEnv } from './app-env.ts';
import { ApiError } from './problem.ts';

/** Stored responses are kept this long, in milliseconds. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

/**
 * Makes a create safe to retry: a request with an `Idempotency-Key` seen before from the same
 * principal gets the first response again instead of creating twice. The same key with a different
 * body is refused.
 */
export function idempotent(services: Services): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (!key) return next();
    const principal = c.get('principal');
    const who = principal.kind === 'operator' ? principal.operator.id : `token:${principal.tokenId}`;
    const body = await c.req.raw.clone().text();
    const requestHash = createHash('sha256').update(`${c.req.method} ${c.req.path}\n${body}`).digest('hex');
    const id = createHash('sha256').update(`${who}\n${key}`).digest('hex');
    await services.db
      .delete(idempotencyKeys)
      .where(lt(idempotencyKeys.createdAt, new Date(Date.now() - IDEMPOTENCY_TTL_MS)));
    const [seen] = await services.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.key, id), eq(idempotencyKeys.principal, who)));
    if (seen) {
      if (seen.requestHash !== requestHash) {
        throw new ApiError(
          422,
          'IDEMPOTENCY_MISMATCH',
          'This Idempotency-Key was used with a different request.',
        );
      }
      // Creates answer JSON, and refusals the one problem shape: the status says which this was.
      return c.newResponse(seen.body, seen.status as 200, {
        'content-type': seen.status >= 400 ? 'application/problem+json' : 'application/json',
        'idempotent-replayed': 'true',
      });
    }
    await next();
    if (c.res.status < 500) {
      const text = await c.res.clone().text();
      await services.db
        .insert(idempotencyKeys)
        .values({
          key: id,
          principal: who,
          requestHash,
          status: c.res.status,
          body: text,
          createdAt: new Date(),
        })
        .onConflictDoNothing();
    }
  };
}

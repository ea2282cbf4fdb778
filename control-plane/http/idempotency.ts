import { createHash } from 'node:crypto';
import { and, eq, lt } from 'drizzle-orm';
import type { Context, MiddlewareHandler } from 'hono';
import { idempotencyKeys } from '../db/schema.ts';
import { openText, sealText } from '../keys/sealing.ts';
import type { Services } from '../services.ts';
import type { AppEnv } from './app-env.ts';
import { ApiError, type Problem } from './problem.ts';

/** Stored responses are kept this long, in milliseconds. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/**
 * Longest response kept for a retry, in characters. A longer one (a command's large output) is
 * replaced by a problem saying the request already ran, so a day of retries holds no copies of it.
 */
export const IDEMPOTENCY_MAX_STORED_CHARS = 256 * 1024;
/** Status of a row whose request is still running. */
const IN_PROGRESS = 0;

function derive(label: string, who: string, key: string): Buffer {
  return createHash('sha256').update(`lifeline-idempotency/${label}\n${who}\n${key}`).digest();
}

const notResults = new WeakSet<Request>();

/**
 * Marks a request's answer as no result of its key: the work never started (a command refused before
 * it ran), so a retry with the same key runs it instead of getting this answer again.
 */
export function notAResult(c: Context): void {
  notResults.add(c.req.raw);
}

/**
 * Makes a create safe to retry: a request with an `Idempotency-Key` seen before from the same
 * principal gets the first response again instead of creating twice. The same key with a different
 * body is refused; the same key while the first request still runs gets 409.
 */
export function idempotent(services: Services): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (!key) return next();
    const principal = c.get('principal');
    const who = principal.kind === 'operator' ? principal.operator.id : `token:${principal.tokenId}`;
    const body = await c.req.raw.clone().text();
    const requestHash = createHash('sha256').update(`${c.req.method} ${c.req.path}\n${body}`).digest('hex');
    const id = derive('id', who, key).toString('hex');
    // Responses can hold secrets shown once (a new API token, a connection code), so they are stored
    // sealed under a key derived from the client's Idempotency-Key, which the database never holds.
    const secret = derive('seal', who, key);
    await services.db
      .delete(idempotencyKeys)
      .where(lt(idempotencyKeys.createdAt, new Date(Date.now() - IDEMPOTENCY_TTL_MS)));
    // Claim the key first, so two requests racing with it cannot both create.
    const claimed = await services.db
      .insert(idempotencyKeys)
      .values({ key: id, principal: who, requestHash, status: IN_PROGRESS, body: '', createdAt: new Date() })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (claimed.length === 0) {
      const [seen] = await services.db
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.key, id), eq(idempotencyKeys.principal, who)));
      if (!seen || seen.requestHash !== requestHash) {
        throw new ApiError(
          422,
          'IDEMPOTENCY_MISMATCH',
          'This Idempotency-Key was used with a different request.',
        );
      }
      if (seen.status === IN_PROGRESS) {
        throw new ApiError(
          409,
          'CONFLICT',
          'A request with this Idempotency-Key is still running. Retry shortly.',
        );
      }
      // Creates answer JSON, and refusals the one problem shape: the status says which this was.
      return c.newResponse(openText(seen.body, secret), seen.status as 200, {
        'content-type': seen.status >= 400 ? 'application/problem+json' : 'application/json',
        'idempotent-replayed': 'true',
      });
    }
    try {
      await next();
    } finally {
      if (c.res.status < 500 && !notResults.has(c.req.raw)) {
        let status = c.res.status;
        let text = await c.res.clone().text();
        if (text.length > IDEMPOTENCY_MAX_STORED_CHARS) {
          status = 409;
          text = JSON.stringify(tooLargeToKeep(text.length));
        }
        await services.db
          .update(idempotencyKeys)
          .set({ status, body: sealText(text, secret) })
          .where(eq(idempotencyKeys.key, id));
      } else {
        // A failure of ours, or work that never started, is not a result: let the retry run again.
        await services.db.delete(idempotencyKeys).where(eq(idempotencyKeys.key, id));
      }
    }
  };
}

/** What a retry gets when the first answer was too large to keep. */
function tooLargeToKeep(length: number): Problem {
  return {
    type: 'https://lifeline.invalid/problems/conflict',
    title: 'Conflict',
    status: 409,
    code: 'CONFLICT',
    detail: `A request with this Idempotency-Key already ran; its answer (${length} characters) was too large to keep for a retry. Send a new key to run it again.`,
  };
}

import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { normalizeConnectionCode, type ResultCode } from '../../protocol/index.ts';
import { auditActor, requireAuth, requireScope } from '../auth/authenticate.ts';
import { SESSION_STATUSES } from '../db/schema.ts';
import type { AppEnv, Principal } from '../http/app-env.ts';
import { ApiError } from '../http/problem.ts';
import { readJson } from '../http/validate.ts';
import type { Services } from '../services.ts';
import { type SessionRow, sessionView } from './session-store.ts';

/** A join token is used at once by the console; a minute covers a slow network. */
export const RELAY_TOKEN_TTL_MS = 60_000;

const redeemSchema = z.object({ code: z.string().min(1).max(64) });
const listSchema = z.object({
  status: z.enum(SESSION_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().datetime().optional(),
});

const REDEEM_FAILURES: Record<string, { status: ContentfulStatusCode; detail: string }> = {
  CODE_INVALID: {
    status: 404,
    detail: 'No session has this code. Check the digits with the user and try again.',
  },
  CODE_EXPIRED: {
    status: 410,
    detail: 'This code has expired. Ask the user to restart the agent for a new code.',
  },
  CODE_USED: { status: 409, detail: 'This code was already used. Ask the user for the code shown now.' },
  SESSION_ENDED: {
    status: 410,
    detail: 'The session of this code has ended. Ask the user to start the agent again.',
  },
};

/** Sessions: redeem a code, join, list, inspect, end. */
export function sessionRoutes(services: Services) {
  const app = new Hono<AppEnv>();
  app.use('/sessions/*', requireAuth(services));
  app.use('/sessions', requireAuth(services));

  const relayGrant = async (
    c: { req: { header(name: string): string | undefined } },
    principal: Principal,
    session: SessionRow,
  ) => {
    const claims = {
      sub: principal.operator.id,
      sid: session.id,
      name: principal.operator.name,
      ...(principal.kind === 'operator' ? { lsid: principal.loginSessionId } : {}),
    };
    const origin = c.req.header('origin');
    const base = origin && services.isAllowedOrigin(origin) ? origin : services.config.publicUrl;
    return {
      url: `${base.replace(/^http/, 'ws')}/ws`,
      token: await services.tokens.sign('relayOperator', claims, RELAY_TOKEN_TTL_MS),
    };
  };

  app.post('/sessions/redeem', requireScope('sessions:write'), async (c) => {
    const principal = c.get('principal');
    const address = c.get('address');
    const { code: typed } = await readJson(c, redeemSchema);
    for (const key of [`addr:${address}`, 'global']) {
      const verdict = (key === 'global' ? services.globalCodeThrottle : services.codeThrottle).check(key);
      if (!verdict.allowed) {
        const seconds = Math.ceil(verdict.retryAfterMs / 1000);
        throw new ApiError(429, 'TOO_FREQUENT', `Too many wrong codes. Wait ${seconds} s and try again.`, {
          headers: { 'Retry-After': String(seconds) },
        });
      }
    }
    const code = normalizeConnectionCode(typed);
    const result = code
      ? await services.store.redeem(code, principal.operator.id)
      : ({ ok: false, code: 'CODE_INVALID' } as const);
    if (!result.ok) {
      services.codeThrottle.fail(`addr:${address}`);
      services.globalCodeThrottle.fail('global');
      await services.audit.record({
        ...auditActor(principal),
        action: 'session.redeem-failed',
        address,
        details: { result: result.code },
      });
      const failure = REDEEM_FAILURES[result.code]!;
      throw new ApiError(failure.status, result.code as ResultCode, failure.detail);
    }
    services.codeThrottle.succeed(`addr:${address}`);
    services.relay.codeRedeemed(result.session.id);
    await services.audit.record({
      ...auditActor(principal),
      action: 'session.redeem',
      sessionId: result.session.id,
      address,
    });
    return c.json({
      session: sessionView(result.session),
      relay: await relayGrant(c, principal, result.session),
    });
  });

  app.post('/sessions/:id/join', requireScope('sessions:write'), async (c) => {
    const session = await services.store.get(c.req.param('id'));
    if (!session) throw new ApiError(404, 'SESSION_NOT_FOUND', 'No such session.');
    if (session.status === 'ended') throw new ApiError(410, 'SESSION_ENDED', 'This session has ended.');
    if (!session.codeRedeemedAt) throw new ApiError(403, 'FORBIDDEN', 'Redeem the session’s code first.');
    return c.json({ session: sessionView(session), relay: await relayGrant(c, c.get('principal'), session) });
  });

  app.get('/sessions', requireScope('sessions:read'), async (c) => {
    const parsed = listSchema.safeParse(c.req.query());
    if (!parsed.success)
      throw new ApiError(400, 'VALIDATION_FAILED', parsed.error.issues[0]?.message ?? 'invalid query');
    const { status, limit, cursor } = parsed.data;
    const rows = await services.store.list({
      limit: limit + 1,
      ...(status ? { status } : {}),
      ...(cursor ? { before: new Date(cursor) } : {}),
    });
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? (page.at(-1)?.createdAt.toISOString() ?? null) : null;
    return c.json({ items: page.map(sessionView), nextCursor });
  });

  app.get('/sessions/:id', requireScope('sessions:read'), async (c) => {
    const session = await services.store.get(c.req.param('id'));
    if (!session) throw new ApiError(404, 'SESSION_NOT_FOUND', 'No such session.');
    return c.json(sessionView(session));
  });

  app.post('/sessions/:id/end', requireScope('sessions:write'), async (c) => {
    const id = c.req.param('id');
    const session = await services.store.get(id);
    if (!session) throw new ApiError(404, 'SESSION_NOT_FOUND', 'No such session.');
    const principal = c.get('principal');
    if (session.status !== 'ended') {
      const reason =
        principal.operator.role === 'admin' && session.operatorId !== principal.operator.id
          ? 'admin-ended'
          : 'operator-ended';
      if (!(await services.relay.end(id, reason))) await services.store.markEnded(id, reason);
      await services.audit.record({
        ...auditActor(principal),
        action: 'session.end',
        sessionId: id,
        address: c.get('address'),
        details: { reason },
      });
    }
    return c.json(sessionView((await services.store.get(id))!));
  });

  return app;
}

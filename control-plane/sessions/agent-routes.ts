import { Hono } from 'hono';
import { z } from 'zod';
import { formatConnectionCode } from '../../protocol/index.ts';
import type { AppEnv } from '../http/app-env.ts';
import { ApiError } from '../http/problem.ts';
import { readJson } from '../http/validate.ts';
import type { Services } from '../services.ts';

const registerSchema = z.object({
  name: z.string().min(1).max(200),
  version: z.string().min(1).max(50),
  hostname: z.string().max(255).optional(),
  os: z.string().max(100).optional(),
  user: z.string().max(255).optional(),
  screen: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }).optional(),
});

/**
 * Agent registration for the user-first flow: an agent started by an end user asks for a session and
 * a connection code to read to the operator. Unauthenticated by design, so throttled per address.
 */
export function agentRoutes(services: Services) {
  const app = new Hono<AppEnv>();

  app.post('/agent/register', async (c) => {
    const address = c.get('address');
    const verdict = services.registerThrottle.check(address);
    if (!verdict.allowed) {
      const seconds = Math.ceil(verdict.retryAfterMs / 1000);
      throw new ApiError(
        429,
        'TOO_FREQUENT',
        `Too many registrations from this address. Try again in ${seconds} s.`,
        {
          headers: { 'Retry-After': String(seconds) },
        },
      );
    }
    // Every registration counts; the throttle only starts delaying past its free allowance.
    services.registerThrottle.fail(address);
    const info = await readJson(c, registerSchema);
    const { session, code } = await services.store.createWithCode(info, services.node);
    const token = await services.tokens.sign('relayAgent', { sub: session.id }, services.config.codeTtlMs);
    await services.audit.record({
      actorType: 'agent',
      actorId: session.id,
      action: 'agent.register',
      sessionId: session.id,
      address,
      details: { hostname: info.hostname, os: info.os, user: info.user },
    });
    return c.json(
      {
        sessionId: session.id,
        code,
        displayCode: formatConnectionCode(code),
        codeExpiresAt: session.codeExpiresAt?.toISOString(),
        relay: { url: `${services.config.publicUrl.replace(/^http/, 'ws')}/ws`, token },
      },
      201,
    );
  });

  return app;
}

import { randomUUID } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { apiTokens, loginSessions, operators } from '../db/schema.ts';
import type { AppEnv, OperatorRow } from '../http/app-env.ts';
import { ApiError } from '../http/problem.ts';
import { readJson } from '../http/validate.ts';
import type { Services } from '../services.ts';
import { generateApiToken, hashApiToken } from './api-tokens.ts';
import { assertSameOrigin, auditActor, requireAuth, requireScope, SESSION_COOKIE } from './authenticate.ts';
import { verifyPassword } from './passwords.ts';
import { SCOPES } from './scopes.ts';

const loginSchema = z.object({ username: z.string().min(1).max(100), password: z.string().min(1).max(1000) });
const createTokenSchema = z.object({
  name: z.string().min(1).max(100),
  scopes: z.array(z.enum(SCOPES)).min(1),
  expiresInDays: z.number().int().positive().max(366).default(90),
});

const DAY_MS = 86_400_000;

/** The operator as the API shows it: never the password hash. */
export function operatorView(operator: OperatorRow) {
  return { id: operator.id, username: operator.username, name: operator.name, role: operator.role };
}

/** Login, logout, who-am-I and API tokens. */
export function authRoutes(services: Services) {
  const app = new Hono<AppEnv>();
  const auth = requireAuth(services);

  app.post('/auth/login', async (c) => {
    assertSameOrigin(services, c);
    const address = c.get('address');
    const { username, password } = await readJson(c, loginSchema);
    const keys = [`addr:${address}`, `user:${username.toLowerCase()}`];
    for (const key of keys) {
      const verdict = services.loginThrottle.check(key);
      if (!verdict.allowed) {
        const seconds = Math.ceil(verdict.retryAfterMs / 1000);
        throw new ApiError(429, 'TOO_FREQUENT', `Too many failed logins. Try again in ${seconds} s.`, {
          headers: { 'Retry-After': String(seconds) },
        });
      }
    }
    const [operator] = await services.db.select().from(operators).where(eq(operators.username, username));
    // Hash even for unknown users so timing does not reveal which usernames exist.
    const valid = await verifyPassword(password, operator?.passwordHash ?? services.dummyPasswordHash);
    if (!operator || !valid || operator.disabledAt) {
      for (const key of keys) services.loginThrottle.fail(key);
      await services.audit.record({
        actorType: 'anonymous',
        action: 'auth.login-failed',
        address,
        details: { username },
      });
      throw new ApiError(401, 'UNAUTHENTICATED', 'Wrong username or password.');
    }
    for (const key of keys) services.loginThrottle.succeed(key);
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + services.config.loginTtlMs);
    await services.db
      .insert(loginSessions)
      .values({ id, operatorId: operator.id, createdAt: new Date(), expiresAt, address });
    const jwt = await services.tokens.sign(
      'console',
      { sub: operator.id, jti: id },
      services.config.loginTtlMs,
    );
    setCookie(c, SESSION_COOKIE, jwt, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: services.config.secureCookies,
      path: '/',
      expires: expiresAt,
    });
    await services.audit.record({
      actorType: 'operator',
      actorId: operator.id,
      action: 'auth.login',
      address,
    });
    return c.json({ operator: operatorView(operator) });
  });

  app.post('/auth/logout', auth, async (c) => {
    const principal = c.get('principal');
    if (principal.kind === 'operator') {
      await services.db
        .update(loginSessions)
        .set({ revokedAt: new Date() })
        .where(eq(loginSessions.id, principal.loginSessionId));
      services.relay.disconnectLogin(principal.loginSessionId);
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    await services.audit.record({
      ...auditActor(principal),
      action: 'auth.logout',
      address: c.get('address'),
    });
    return c.body(null, 204);
  });

  app.get('/auth/me', auth, (c) => {
    const principal = c.get('principal');
    return c.json({ operator: operatorView(principal.operator), via: principal.kind });
  });

  app.post('/tokens', auth, requireScope('admin'), async (c) => {
    const principal = c.get('principal');
    const body = await readJson(c, createTokenSchema);
    const token = generateApiToken();
    const row = {
      id: randomUUID(),
      operatorId: principal.operator.id,
      name: body.name,
      tokenHash: hashApiToken(token),
      scopes: body.scopes,
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + body.expiresInDays * DAY_MS),
    };
    await services.db.insert(apiTokens).values(row);
    await services.audit.record({
      ...auditActor(principal),
      action: 'token.create',
      address: c.get('address'),
      details: { tokenId: row.id, name: row.name, scopes: row.scopes },
    });
    return c.json({ id: row.id, name: row.name, scopes: row.scopes, expiresAt: row.expiresAt, token }, 201);
  });

  app.get('/tokens', auth, requireScope('admin'), async (c) => {
    const rows = await services.db.select().from(apiTokens).where(isNull(apiTokens.revokedAt));
    return c.json({
      items: rows.map(({ tokenHash: _hash, ...rest }) => rest),
      nextCursor: null,
    });
  });

  app.delete('/tokens/:id', auth, requireScope('admin'), async (c) => {
    const id = c.req.param('id');
    const result = await services.db
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id });
    if (result.length === 0) throw new ApiError(404, 'NOT_FOUND', 'No such token.');
    await services.audit.record({
      ...auditActor(c.get('principal')),
      action: 'token.revoke',
      address: c.get('address'),
      details: { tokenId: id },
    });
    return c.body(null, 204);
  });

  return app;
}

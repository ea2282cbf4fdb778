import { randomUUID } from 'node:crypto';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { OperatorRow } from '../http/app-env.ts';
import { idempotent } from '../http/idempotency.ts';
import { createApi } from '../http/openapi.ts';
import { pageOf } from '../http/paging.ts';
import { ApiError } from '../http/problem.ts';
import { participantsOf } from '../remote-tools/participants.ts';
import type { Services } from '../services.ts';
import type { ApiTokenRow } from './api-token-store.ts';
import { generateApiToken, hashApiToken } from './api-tokens.ts';
import { assertSameOrigin, auditActor, requireAuth, requireScope, SESSION_COOKIE } from './authenticate.ts';
import { admitLogin, admitTotp, rememberDevice } from './login-guard.ts';
import { verifyPassword } from './passwords.ts';
import { authRouteSpecs as routes } from './route-specs.ts';
import { hasScope, ROLE_SCOPES } from './scopes.ts';
import { newTotpSecret, verifyTotp } from './totp.ts';

const DAY_MS = 86_400_000;

/** The operator as the API shows it: never the password hash or the TOTP secret. */
export function operatorView(operator: OperatorRow) {
  return {
    id: operator.id,
    username: operator.username,
    name: operator.name,
    role: operator.role,
    organisationId: operator.organisationId,
    disabled: operator.disabledAt !== null,
    totpEnabled: operator.totpEnabledAt !== null,
    createdAt: operator.createdAt.toISOString(),
  };
}

function tokenView(row: ApiTokenRow) {
  return {
    id: row.id,
    name: row.name,
    operatorId: row.operatorId,
    scopes: row.scopes,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

/** Login, logout, second factor, who-am-I and API tokens. */
export function authRoutes(services: Services) {
  const app = createApi();
  const auth = requireAuth(services);

  app.openapi(routes.login, async (c) => {
    assertSameOrigin(services, c);
    const address = c.get('address');
    const { username, password, totp } = c.req.valid('json');
    const operator = await services.accounts.operators.byUsername(username);
    const guess = await admitLogin(services, c, username, operator);
    // Hash even for unknown users so timing does not reveal which usernames exist.
    const valid = await verifyPassword(password, operator?.passwordHash ?? services.dummyPasswordHash);
    const refuse = async (detail: string, code: 'UNAUTHENTICATED' | 'SECOND_FACTOR_REQUIRED') => {
      // A username that matches no account may be a password typed into the wrong field: it is
      // recorded as a keyed hash, which still shows repeated attempts with the same text.
      const who = operator
        ? { username: operator.username, operatorId: operator.id }
        : { username: 'unknown', usernameHash: services.pseudonym(username) };
      await services.audit.record({
        actorType: 'anonymous',
        action: 'auth.login-failed',
        address,
        details: { ...who, reason: code },
      });
      return new ApiError(401, code, detail);
    };
    if (!operator || !valid || operator.disabledAt) {
      guess.failed();
      throw await refuse('Wrong username or password.', 'UNAUTHENTICATED');
    }
    // The password was right: its delays end here. The second factor has delays of its own, which a
    // right password does not clear.
    guess.succeeded();
    if (operator.totpEnabledAt && operator.totpSecret) {
      if (!totp) {
        throw new ApiError(
          401,
          'SECOND_FACTOR_REQUIRED',
          'Enter the 6-digit code from your authenticator app.',
        );
      }
      const secondFactor = admitTotp(services, operator.id);
      const step = verifyTotp(operator.totpSecret, totp);
      // Claim the step atomically: the same code sent twice (or replayed) is accepted once.
      const claimed =
        step !== undefined && (await services.accounts.operators.claimTotpStep(operator.id, step));
      if (!claimed) {
        secondFactor.failed();
        throw await refuse('Wrong or already used authenticator code.', 'SECOND_FACTOR_REQUIRED');
      }
      secondFactor.succeeded();
    }
    const expiresAt = new Date(Date.now() + services.config.loginTtlMs);
    const id = await services.accounts.logins.open(operator.id, expiresAt, address);
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
    await rememberDevice(services, c, operator.id);
    await services.audit.record({
      actorType: 'operator',
      actorId: operator.id,
      action: 'auth.login',
      address,
    });
    // A console login holds every scope of its role; saying so saves the console a /auth/me round trip.
    return c.json(
      {
        operator: operatorView(operator),
        scopes: [...ROLE_SCOPES[operator.role]],
        expiresAt: expiresAt.toISOString(),
      },
      200,
    );
  });

  app.openapi({ ...routes.logout, middleware: [auth] }, async (c) => {
    const principal = c.get('principal');
    if (principal.kind === 'operator') {
      await services.accounts.logins.revoke(principal.loginSessionId);
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

  app.openapi({ ...routes.me, middleware: [auth] }, (c) => {
    const principal = c.get('principal');
    // What requests are judged by: a token's `admin` scope stands for every scope its owner's role has.
    const scopes = ROLE_SCOPES[principal.operator.role].filter((scope) => hasScope(principal, scope));
    return c.json({ operator: operatorView(principal.operator), via: principal.kind, scopes }, 200);
  });

  app.openapi({ ...routes.totpSetup, middleware: [auth] }, async (c) => {
    const principal = c.get('principal');
    if (principal.kind !== 'operator')
      throw new ApiError(403, 'FORBIDDEN', 'Only a logged-in operator sets up a second factor.');
    if (principal.operator.totpEnabledAt)
      throw new ApiError(409, 'CONFLICT', 'The second factor is already on.');
    const { secret, uri } = newTotpSecret(principal.operator.username);
    await services.accounts.operators.update(principal.operator.id, { totpSecret: secret });
    return c.json({ secret, uri }, 200);
  });

  app.openapi({ ...routes.totpEnable, middleware: [auth] }, async (c) => {
    const principal = c.get('principal');
    if (principal.kind !== 'operator')
      throw new ApiError(403, 'FORBIDDEN', 'Only a logged-in operator turns on a second factor.');
    const operator = principal.operator;
    if (operator.totpEnabledAt) throw new ApiError(409, 'CONFLICT', 'The second factor is already on.');
    if (!operator.totpSecret) throw new ApiError(409, 'CONFLICT', 'Start with POST /api/auth/totp/setup.');
    const step = verifyTotp(operator.totpSecret, c.req.valid('json').code);
    if (step === undefined) {
      throw new ApiError(
        400,
        'VALIDATION_FAILED',
        'That code does not match. Check the time on your phone and try again.',
      );
    }
    const updated = await services.accounts.operators.update(operator.id, {
      totpEnabledAt: new Date(),
      totpLastStep: step,
    });
    await services.audit.record({
      ...auditActor(principal),
      action: 'auth.totp-enabled',
      address: c.get('address'),
    });
    return c.json({ operator: operatorView(updated!) }, 200);
  });

  app.use('/tokens', auth);
  app.use('/tokens/*', auth);
  app.use('/tokens', async (c, next) => (c.req.method === 'POST' ? idempotent(services)(c, next) : next()));

  app.openapi({ ...routes.createToken, middleware: [requireScope('admin')] }, async (c) => {
    const principal = c.get('principal');
    const body = c.req.valid('json');
    const token = generateApiToken();
    const row = {
      id: randomUUID(),
      operatorId: principal.operator.id,
      name: body.name,
      tokenHash: hashApiToken(token),
      scopes: body.scopes,
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + body.expiresInDays * DAY_MS),
      lastUsedAt: null,
      revokedAt: null,
    };
    await services.accounts.apiTokens.create(row);
    await services.audit.record({
      ...auditActor(principal),
      action: 'token.create',
      address: c.get('address'),
      details: { tokenId: row.id, name: row.name, scopes: row.scopes },
    });
    return c.json({ ...tokenView(row), token }, 201);
  });

  app.openapi({ ...routes.listTokens, middleware: [requireScope('admin')] }, async (c) => {
    const query = c.req.valid('query');
    const rows = await services.accounts.apiTokens.list(query);
    return c.json(pageOf(rows, query.limit, tokenView), 200);
  });

  app.openapi({ ...routes.revokeToken, middleware: [requireScope('admin')] }, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await services.accounts.apiTokens.revoke(id)))
      throw new ApiError(404, 'NOT_FOUND', 'No such token.');
    // Calls the token has under way on a device (a command, a transfer) stop now, not when they finish.
    participantsOf(services).detachToken(id);
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

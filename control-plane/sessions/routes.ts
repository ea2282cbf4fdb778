import { formatConnectionCode, normalizeConnectionCode } from '../../protocol/index.ts';
import { auditActor, principalStillValid, requireAuth, requireScope } from '../auth/authenticate.ts';
import { canSeeOrganisation, hasScope, organisationScope } from '../auth/scopes.ts';
import type { Principal } from '../http/app-env.ts';
import { idempotent } from '../http/idempotency.ts';
import { createApi } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import { participantsOf } from '../remote-tools/participants.ts';
import type { Services } from '../services.ts';
import { admitCodeGuess, REDEEM_FAILURES } from './code-guards.ts';
import { sessionRouteSpecs as routes } from './route-specs.ts';
import { decodeSessionCursor, encodeSessionCursor, type SessionRow, sessionView } from './session-store.ts';

/** A join token is used at once by the console; a minute covers a slow network. */
export const RELAY_TOKEN_TTL_MS = 60_000;
/** How often a held wait re-reads the session, in milliseconds. */
const WAIT_POLL_MS = 250;
/** How often a held wait checks that its caller may still read (not disabled, not revoked), in milliseconds. */
const WAIT_RECHECK_MS = 1_000;
/** Agent platforms offered for download. */
export const DOWNLOAD_PLATFORMS = ['linux-x64', 'win-x64'] as const;

function reached(row: SessionRow, until: 'agent-connected' | 'active' | 'ended'): boolean {
  if (until === 'ended') return row.status === 'ended';
  if (row.status === 'ended') return true;
  if (until === 'active') return row.status === 'active';
  return row.agentConnectedAt !== null;
}

/**
 * Where and how an operator reaches the relay for `session`: the WebSocket URL (on the console's own
 * origin when it is an allowed one) and a single-use join token naming the operator.
 */
export async function operatorRelayGrant(
  services: Services,
  origin: string | undefined,
  principal: Principal,
  session: SessionRow,
) {
  const claims = {
    sub: principal.operator.id,
    sid: session.id,
    name: principal.operator.name,
    ...(principal.kind === 'operator' ? { lsid: principal.loginSessionId } : {}),
    ...(hasScope(principal, 'admin') ? { adm: true } : {}),
  };
  const base = origin && services.isAllowedOrigin(origin) ? origin : services.config.publicUrl;
  return {
    url: `${base.replace(/^http/, 'ws')}/ws`,
    token: await services.tokens.sign('relayOperator', claims, RELAY_TOKEN_TTL_MS),
  };
}

/** Sessions: create, redeem a code, join, wait, list, inspect, end. */
export function sessionRoutes(services: Services) {
  /** A session as the API shows it, its agent reported connected only while its socket is. */
  const view = (row: SessionRow) => sessionView(row, services.relay.agentAway(row.id));
  const app = createApi();
  app.use('/sessions/*', requireAuth(services));
  app.use('/sessions', requireAuth(services));

  /** Loads a session the principal may see, or fails with 404. */
  const visible = async (principal: Principal, id: string): Promise<SessionRow> => {
    const session = await services.store.get(id);
    if (!session || !canSeeOrganisation(principal, session.organisationId)) {
      throw new ApiError(404, 'SESSION_NOT_FOUND', 'No such session.');
    }
    return session;
  };

  const relayGrant = (origin: string | undefined, principal: Principal, session: SessionRow) =>
    operatorRelayGrant(services, origin, principal, session);

  const codeResponse = (session: SessionRow, code: string) => ({
    session: view(session),
    code,
    displayCode: formatConnectionCode(code),
    codeExpiresAt: session.codeExpiresAt!.toISOString(),
    downloads: Object.fromEntries(
      DOWNLOAD_PLATFORMS.map((platform) => [
        platform,
        `${services.config.publicUrl}/download/agent/${platform}?session=${session.id}`,
      ]),
    ),
  });

  app.use('/sessions', async (c, next) => (c.req.method === 'POST' ? idempotent(services)(c, next) : next()));
  app.openapi({ ...routes.create, middleware: [requireScope('sessions:write')] }, async (c) => {
    const principal = c.get('principal');
    const { deviceGroupId } = c.req.valid('json');
    const group = deviceGroupId
      ? await services.groups.get(deviceGroupId)
      : await services.groups.defaultFor(principal.operator.organisationId);
    if (!group || !canSeeOrganisation(principal, group.organisationId)) {
      throw new ApiError(404, 'NOT_FOUND', 'No such device group.');
    }
    const { session, code } = await services.store.createWithCode({
      agentInfo: null,
      node: null,
      organisationId: group.organisationId,
      deviceGroupId: group.id,
      policy: group.policy,
      initiator: 'operator',
      createdById: principal.operator.id,
    });
    await services.audit.record({
      ...auditActor(principal),
      action: 'session.create',
      sessionId: session.id,
      address: c.get('address'),
      details: { deviceGroupId: group.id },
    });
    return c.json(codeResponse(session, code), 201);
  });

  app.openapi({ ...routes.renewCode, middleware: [requireScope('sessions:write')] }, async (c) => {
    const principal = c.get('principal');
    const session = await visible(principal, c.req.valid('param').id);
    const policy = session.policy;
    // Checked before renewing: a user-first code is the one on the end user's screen.
    const renewed =
      policy && session.initiator === 'operator'
        ? await services.store.renewCode(session.id, policy.codeLifetimeMinutes * 60_000)
        : undefined;
    if (!renewed) {
      throw new ApiError(409, 'CONFLICT', 'Only a waiting session an operator created gets a new code.');
    }
    await services.audit.record({
      ...auditActor(principal),
      action: 'session.code-renew',
      sessionId: session.id,
      address: c.get('address'),
    });
    return c.json(codeResponse(renewed.session, renewed.code), 200);
  });

  app.openapi({ ...routes.extend, middleware: [requireScope('sessions:write')] }, async (c) => {
    const principal = c.get('principal');
    const session = await visible(principal, c.req.valid('param').id);
    const policy = session.policy;
    // A user-first code is the end user's: its lifetime is the one the agent showed them.
    const extended =
      policy && session.initiator === 'operator'
        ? await services.store.extendCode(session.id, policy.codeLifetimeMinutes * 60_000)
        : undefined;
    if (!extended) {
      throw new ApiError(
        409,
        'CONFLICT',
        'Only the code of a waiting session an operator created can be extended.',
      );
    }
    services.relay.codeExtended(session.id, extended.codeExpiresAt!);
    await services.audit.record({
      ...auditActor(principal),
      action: 'session.code-extend',
      sessionId: session.id,
      address: c.get('address'),
    });
    return c.json(view(extended), 200);
  });

  app.openapi({ ...routes.redeem, middleware: [requireScope('sessions:write')] }, async (c) => {
    const principal = c.get('principal');
    const address = c.get('address');
    // The operator's own budget: anonymous guessing, however much of it, never slows them.
    const guess = admitCodeGuess(services, { operatorId: principal.operator.id });
    const code = normalizeConnectionCode(c.req.valid('json').code);
    const result = code
      ? await services.store.redeem(code, { initiator: 'agent', operatorId: principal.operator.id })
      : ({ ok: false, code: 'CODE_INVALID' } as const);
    // A code of another organisation's device is not this operator's to redeem: it does not exist for them.
    if (result.ok && !canSeeOrganisation(principal, result.session.organisationId)) {
      await services.store.unredeem(result.session.id);
      guess.settle(false);
      throw new ApiError(404, 'CODE_INVALID', REDEEM_FAILURES.CODE_INVALID.detail);
    }
    guess.settle(result.ok);
    if (!result.ok) {
      await services.audit.record({
        ...auditActor(principal),
        action: 'session.redeem-failed',
        address,
        details: { result: result.code },
      });
      const failure = REDEEM_FAILURES[result.code];
      throw new ApiError(failure.status, result.code, failure.detail);
    }
    services.relay.codeRedeemed(result.session.id);
    await services.audit.record({
      ...auditActor(principal),
      action: 'session.redeem',
      sessionId: result.session.id,
      address,
    });
    return c.json(
      {
        session: view(result.session),
        relay: await relayGrant(c.req.header('origin'), principal, result.session),
      },
      200,
    );
  });

  app.openapi({ ...routes.join, middleware: [requireScope('sessions:write')] }, async (c) => {
    const principal = c.get('principal');
    const session = await visible(principal, c.req.valid('param').id);
    if (session.status === 'ended') throw new ApiError(410, 'SESSION_ENDED', 'This session has ended.');
    if (session.initiator === 'agent' && !session.codeRedeemedAt) {
      throw new ApiError(403, 'FORBIDDEN', 'Redeem the code the user reads out first.');
    }
    if (!session.agentConnectedAt)
      throw new ApiError(409, 'AGENT_OFFLINE', 'The agent has not connected yet.');
    // The relay audits the socket as the operator; this names the token too when a script asked.
    await services.audit.record({
      ...auditActor(principal),
      action: 'session.join-grant',
      sessionId: session.id,
      address: c.get('address'),
    });
    return c.json(
      { session: view(session), relay: await relayGrant(c.req.header('origin'), principal, session) },
      200,
    );
  });

  app.openapi({ ...routes.list, middleware: [requireScope('sessions:read')] }, async (c) => {
    const { status, limit, cursor } = c.req.valid('query');
    const after = cursor ? decodeSessionCursor(cursor) : undefined;
    if (cursor && !after)
      throw new ApiError(400, 'VALIDATION_FAILED', 'cursor: use the nextCursor of a previous page');
    const organisationId = organisationScope(c.get('principal'));
    const rows = await services.store.list({
      limit: limit + 1,
      ...(status ? { status } : {}),
      ...(after ? { after } : {}),
      ...(organisationId ? { organisationId } : {}),
    });
    const items = rows.slice(0, limit);
    const nextCursor = rows.length > limit && items.length ? encodeSessionCursor(items.at(-1)!) : null;
    return c.json({ items: items.map(view), nextCursor }, 200);
  });

  app.openapi({ ...routes.get, middleware: [requireScope('sessions:read')] }, async (c) => {
    return c.json(view(await visible(c.get('principal'), c.req.valid('param').id)), 200);
  });

  app.openapi({ ...routes.wait, middleware: [requireScope('sessions:read')] }, async (c) => {
    const { id } = c.req.valid('param');
    const { until, timeout } = c.req.valid('query');
    let session = await visible(c.get('principal'), id);
    const deadline = Date.now() + timeout * 1000;
    const aborted = c.req.raw.signal;
    // A script waiting for consent after /connect keeps its API participant (and the prompt) alive.
    const principal = c.get('principal');
    const lease = participantsOf(services).hold(id, principal);
    // The caller was checked when the wait began; a disable or a revocation since then must end it.
    const revoked = () =>
      new ApiError(401, 'UNAUTHENTICATED', 'The operator was disabled, or the login or token revoked.');
    try {
      let checkedAt = Date.now();
      let waited = false;
      while (!reached(session, until) && Date.now() < deadline && !aborted.aborted) {
        waited = true;
        await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
        if (Date.now() - checkedAt >= WAIT_RECHECK_MS) {
          if (!(await principalStillValid(services, principal))) throw revoked();
          checkedAt = Date.now();
        }
        session = (await services.store.get(id)) ?? session;
      }
      // On waking, whatever woke it: nothing is answered to a caller who lost access meanwhile.
      if (waited && !(await principalStillValid(services, principal))) throw revoked();
    } finally {
      lease?.release();
    }
    return c.json({ ...view(session), reached: reached(session, until) }, 200);
  });

  app.openapi({ ...routes.end, middleware: [requireScope('sessions:write')] }, async (c) => {
    const principal = c.get('principal');
    const session = await visible(principal, c.req.valid('param').id);
    if (session.status !== 'ended') {
      const reason =
        principal.operator.role === 'admin' && session.operatorId !== principal.operator.id
          ? 'admin-ended'
          : 'operator-ended';
      if (!(await services.relay.end(session.id, reason))) await services.store.markEnded(session.id, reason);
      await services.audit.record({
        ...auditActor(principal),
        action: 'session.end',
        sessionId: session.id,
        address: c.get('address'),
        details: { reason },
      });
    }
    return c.json(view((await services.store.get(session.id))!), 200);
  });

  return app;
}

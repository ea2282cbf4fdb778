import { createRoute } from '@hono/zod-openapi';
import {
  agentGrantSchema,
  agentJoinSchema,
  agentRegisterSchema,
  agentRegistrationSchema,
} from '../../protocol/api/agent.ts';
import { formatConnectionCode, inertDeviceInfo, normalizeConnectionCode } from '../../protocol/index.ts';
import { linkPresence } from '../devices/presence-link.ts';
import { throttleKey } from '../http/client-address.ts';
import { createApi, json, jsonBody, problems } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { spendOrRefuse } from '../throttle/too-frequent.ts';
import { agentGrant } from './agent-grant.ts';
import { admitCodeGuess, REDEEM_FAILURES } from './code-guards.ts';

const registerRoute = createRoute({
  method: 'post',
  path: '/agent/register',
  tags: ['agent'],
  summary: 'An agent started by an end user asks for a session and a connection code (user-first flow)',
  request: { body: jsonBody(agentRegisterSchema) },
  responses: {
    201: json(agentRegistrationSchema, 'The session, its code to read aloud, and the relay grant'),
    ...problems(400, 403, 429),
  },
});

const claimRoute = createRoute({
  method: 'post',
  path: '/agent/join',
  tags: ['agent'],
  summary:
    'An agent joins a session an operator created, with the code the operator gave (operator-first flow)',
  request: { body: jsonBody(agentJoinSchema) },
  responses: { 200: json(agentGrantSchema, 'The relay grant'), ...problems(400, 404, 409, 410, 429) },
});

/**
 * The device group an agent that registers joins: its registration key's, or else the first
 * organisation's default group. A key that is no longer valid is refused with 403.
 */
export async function groupForAgent(services: Services, registrationKey: string | undefined) {
  const group = registrationKey ? await services.groups.byRegistrationKey(registrationKey) : undefined;
  if (registrationKey && !group)
    throw new ApiError(403, 'FORBIDDEN', 'This registration key is not valid any more.');
  if (group) return group;
  return services.groups.defaultFor((await services.organisations.first()).id);
}

/**
 * The agent's endpoints. Unauthenticated by design (the end user has no account), so both are
 * throttled per address; `claim` is an anonymous code guess, which also spends the budget all
 * anonymous guesses share (see `admitCodeGuess`). Registering is never a guess.
 */
export function agentRoutes(services: Services) {
  const app = createApi();

  app.openapi(registerRoute, async (c) => {
    const address = c.get('address');
    spendOrRefuse(
      services.registerThrottle,
      throttleKey(address),
      (s) => `Too many registrations from this address. Try again in ${s} s.`,
    );
    const { registrationKey, presence, ...reported } = c.req.valid('json');
    const info = inertDeviceInfo(reported);
    const group = await groupForAgent(services, registrationKey);
    const policy = group.policy;
    const { session, code } = await services.store.createWithCode({
      agentInfo: info,
      node: services.node,
      organisationId: group.organisationId,
      deviceGroupId: group.id,
      policy,
      initiator: 'agent',
      createdById: null,
    });
    await services.audit.record({
      actorType: 'agent',
      actorId: session.id,
      action: 'agent.register',
      sessionId: session.id,
      address,
      details: { hostname: info.hostname, os: info.os, user: info.user, groupId: group.id },
    });
    await linkPresence(services, session, presence, address);
    return c.json(
      {
        sessionId: session.id,
        code,
        displayCode: formatConnectionCode(code),
        codeExpiresAt: session.codeExpiresAt!.toISOString(),
        ...(await agentGrant(services, session)),
      },
      201,
    );
  });

  app.openapi(claimRoute, async (c) => {
    const address = c.get('address');
    const guess = admitCodeGuess(services, { address });
    const { code: typed, presence, ...reported } = c.req.valid('json');
    const info = inertDeviceInfo(reported);
    const code = normalizeConnectionCode(typed);
    const result = code
      ? await services.store.redeem(code, { initiator: 'operator' })
      : ({ ok: false, code: 'CODE_INVALID' } as const);
    guess.settle(result.ok);
    if (!result.ok) {
      await services.audit.record({
        actorType: 'anonymous',
        action: 'agent.join-failed',
        address,
        details: { result: result.code },
      });
      const failure = REDEEM_FAILURES[result.code];
      throw new ApiError(failure.status, result.code, failure.agentDetail);
    }
    // Connected is what the relay says once the agent's socket arrives; `wait` and `join` rely on it.
    await services.store.recordAgentInfo(result.session.id, info);
    await services.audit.record({
      actorType: 'agent',
      actorId: result.session.id,
      action: 'agent.join',
      sessionId: result.session.id,
      address,
    });
    await linkPresence(services, result.session, presence, address);
    return c.json({ sessionId: result.session.id, ...(await agentGrant(services, result.session)) }, 200);
  });

  return app;
}

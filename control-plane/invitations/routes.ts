import { invitationHash } from '../../protocol/console-link.ts';
import { inertDeviceInfo } from '../../protocol/index.ts';
import { auditActor, requireAuth, requireScope } from '../auth/authenticate.ts';
import { canSeeOrganisation } from '../auth/scopes.ts';
import { throttleKey } from '../http/client-address.ts';
import { createApi } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { agentGrant } from '../sessions/agent-grant.ts';
import { groupForAgent } from '../sessions/agent-routes.ts';
import { operatorRelayGrant } from '../sessions/routes.ts';
import { sessionView } from '../sessions/session-store.ts';
import { spendOrRefuse, tooFrequent } from '../throttle/too-frequent.ts';
import { InvitationStore } from './invitation-store.ts';
import { invitationRouteSpecs as routes } from './route-specs.ts';

/** What each refusal means to the helper who opened the link. */
const OPEN_FAILURES = {
  NOT_FOUND: { status: 404, detail: 'No invitation has this link. Ask the user to send it again.' },
  INVITATION_EXPIRED: {
    status: 410,
    detail: 'This invitation has expired. Ask the user to create a new one.',
  },
  INVITATION_USED: { status: 409, detail: 'This invitation was already opened by another helper.' },
  PASSWORD_WRONG: {
    status: 403,
    detail: 'That is not the password of this invitation. Ask the user for it again.',
  },
} as const;

/** The console's address for an invitation; the fragment never reaches a server's logs. */
export function invitationLink(publicUrl: string, id: string): string {
  return `${publicUrl}/${invitationHash(id)}`;
}

/**
 * Invitations (README, "Invitations"): an end user's agent creates one with an expiry and a password
 * (`POST /api/agent/invitations`, unauthenticated like registering, throttled per address); a helper
 * signed in to the console opens it with the password (`POST /api/invitations/{id}/open`). Wrong
 * passwords are audited and slowed down per invitation, whoever guesses; the end user is then asked to
 * accept exactly as in a code session.
 */
export function invitationRoutes(services: Services) {
  const app = createApi();
  const store = new InvitationStore(services.db);
  app.use('/invitations/*', requireAuth(services));

  app.openapi(routes.create, async (c) => {
    const address = c.get('address');
    spendOrRefuse(
      services.registerThrottle,
      throttleKey(address),
      (s) => `Too many registrations from this address. Try again in ${s} s.`,
    );
    const { registrationKey, expiresInMinutes, password, ...reported } = c.req.valid('json');
    const info = inertDeviceInfo(reported);
    const group = await groupForAgent(services, registrationKey);
    const policy = group.policy;
    if (policy.invitationMaxMinutes === 0)
      throw new ApiError(403, 'POLICY_FORBIDS', "Your help desk's policy does not allow invitations.");
    if (expiresInMinutes > policy.invitationMaxMinutes) {
      throw new ApiError(
        422,
        'VALIDATION_FAILED',
        `expiresInMinutes: an invitation may stay open at most ${policy.invitationMaxMinutes} minutes here.`,
      );
    }
    const expiresAt = new Date(Date.now() + expiresInMinutes * 60_000);
    const session = await services.store.createInvited(
      {
        agentInfo: info,
        node: services.node,
        organisationId: group.organisationId,
        deviceGroupId: group.id,
        policy,
      },
      expiresAt,
    );
    const invitation = await store.create(session.id, password, expiresAt);
    await services.audit.record({
      actorType: 'agent',
      actorId: session.id,
      action: 'invitation.create',
      sessionId: session.id,
      address,
      details: { hostname: info.hostname, user: info.user, groupId: group.id, expiresInMinutes },
    });
    return c.json(
      {
        sessionId: session.id,
        invitationId: invitation.id,
        link: invitationLink(services.config.publicUrl, invitation.id),
        expiresAt: expiresAt.toISOString(),
        ...(await agentGrant(services, session)),
      },
      201,
    );
  });

  app.openapi({ ...routes.status, middleware: [requireScope('sessions:write')] }, async (c) => {
    const invitation = await store.get(c.req.valid('param').id);
    const session = invitation && (await services.store.get(invitation.sessionId));
    if (!invitation || !session || !canSeeOrganisation(c.get('principal'), session.organisationId)) {
      throw new ApiError(404, 'NOT_FOUND', OPEN_FAILURES.NOT_FOUND.detail);
    }
    const expired = invitation.expiresAt.getTime() <= Date.now() || session.status === 'ended';
    const status = invitation.openedAt ? 'used' : expired ? 'expired' : 'open';
    return c.json({ id: invitation.id, status, expiresAt: invitation.expiresAt.toISOString() }, 200);
  });

  app.openapi({ ...routes.open, middleware: [requireScope('sessions:write')] }, async (c) => {
    const principal = c.get('principal');
    const address = c.get('address');
    const { id } = c.req.valid('param');
    // Counted before the slow hash, so guesses sent at once are all counted (as for codes).
    const throttle = services.invitationThrottle;
    const verdict = throttle.check(id);
    if (!verdict.allowed) {
      await services.audit.record({
        ...auditActor(principal),
        action: 'invitation.open-throttled',
        address,
        details: { invitationId: id },
      });
      throw tooFrequent(verdict.retryAfterMs, (s) => `Too many wrong passwords. Wait ${s} s and try again.`);
    }
    throttle.fail(id);
    let result = await store.open(id, c.req.valid('json').password, principal.operator.id);
    const session = result.ok ? await services.store.get(result.invitation.sessionId) : undefined;
    // Another organisation's invitation does not exist for this helper.
    if (result.ok && (!session || !canSeeOrganisation(principal, session.organisationId))) {
      await store.reopen(id);
      result = { ok: false, code: 'NOT_FOUND' };
    }
    // Only a wrong password is a guess; a right one, or a link that is expired or used, is not.
    if (!result.ok && result.code === 'PASSWORD_WRONG') throttle.restartDelay(id);
    else throttle.forgive(id);
    if (!result.ok) {
      const invitation = result.code === 'NOT_FOUND' ? undefined : await store.get(id);
      await services.audit.record({
        ...auditActor(principal),
        action: 'invitation.open-failed',
        sessionId: invitation?.sessionId,
        address,
        details: { invitationId: id, result: result.code },
      });
      const failure = OPEN_FAILURES[result.code];
      throw new ApiError(failure.status, result.code, failure.detail);
    }
    const opened = await services.store.redeemInvited(result.invitation.sessionId, principal.operator.id);
    if (!opened) throw new ApiError(410, 'INVITATION_EXPIRED', OPEN_FAILURES.INVITATION_EXPIRED.detail);
    services.relay.codeRedeemed(opened.id);
    await services.audit.record({
      ...auditActor(principal),
      action: 'invitation.open',
      sessionId: opened.id,
      address,
      details: { invitationId: id },
    });
    return c.json(
      {
        session: sessionView(opened, services.relay.agentAway(opened.id)),
        relay: await operatorRelayGrant(services, c.req.header('origin'), principal, opened),
      },
      200,
    );
  });

  return app;
}

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { deviceGroups } from '../../control-plane/db/schema.ts';
import { ALL_PERMISSIONS, DEFAULT_POLICY, type Permissions, type Policy } from '../../protocol/index.ts';
import {
  type AgentRegistration,
  type ApiClient,
  type AuditEvent,
  assertProblem,
  type Credentials,
  expectJson,
  type GroupView,
  groupWithKey,
  type Page,
  postAgentRegistration,
  type SessionView,
  startWithAdmin,
  waitUntilEnded,
} from '../support/api.ts';
import type { TestControlPlane } from '../support/control-plane.ts';
import { closeAll, pairInGroup, RelayClient } from './relay-client.ts';

const MINUTE_MS = 60_000;
/** What an agent claims the user allowed: everything, control included. */
/** A few input events an operator client sends. */
const INPUT_EVENTS = [
  { kind: 'move', x: 0.5, y: 0.5 },
  { kind: 'button', button: 'left', down: true, x: 0.5, y: 0.5 },
  { kind: 'button', button: 'left', down: false, x: 0.5, y: 0.5 },
  { kind: 'key', code: 'KeyA', down: true },
  { kind: 'key', code: 'KeyA', down: false },
] as const;

describe('device groups and policies', () => {
  let cp: TestControlPlane;
  let api: ApiClient;
  let admin: Credentials;
  let adminId: string;
  let jwks: ReturnType<typeof createLocalJWKSet>;
  const sockets: RelayClient[] = [];
  let unique = 0;

  function track(client: RelayClient): RelayClient {
    sockets.push(client);
    return client;
  }

  /** A new group of the administrator's organisation with this policy, and a key that enrols agents in it. */
  function groupWith(policy: Policy): Promise<{ group: GroupView; key: string }> {
    return groupWithKey(api, admin, `group ${++unique}`, policy);
  }

  function register(registrationKey?: string): Promise<Response> {
    return postAgentRegistration(api, registrationKey ? { registrationKey } : {});
  }

  async function putPolicy(groupId: string, policy: unknown): Promise<Response> {
    return api.put(`/api/groups/${groupId}/policy`, admin, policy);
  }

  /** A session of the group the key enrols into, the agent's consent claiming `permissions`. */
  function pair(key: string, permissions: Permissions = ALL_PERMISSIONS) {
    return pairInGroup(api, admin, key, permissions, sockets);
  }

  /** Sends the input events, then ends the session; returns the input the agent got before the end. */
  async function inputReachingAgent(agent: RelayClient, operator: RelayClient) {
    for (const event of INPUT_EVENTS) operator.send({ type: 'input', event });
    // Frames of one socket are handled in order and the agent's socket delivers in order: whatever
    // input the relay passed on arrives before the end.
    operator.send({ type: 'end', reason: 'operator-ended' });
    await agent.next('end');
    return agent.messages('input');
  }

  before(async () => {
    const started = await startWithAdmin({ listen: true });
    ({ cp, api, admin } = started);
    adminId = started.me.id;
    const keySet = await expectJson<JSONWebKeySet>(await api.get('/.well-known/jwks.json', undefined), 200);
    jwks = createLocalJWKSet(keySet);
  });

  after(() => closeAll(sockets, cp));

  describe('changing a policy', () => {
    const INVALID: [string, (policy: Policy) => unknown, RegExp][] = [
      ['a code lifetime of 0 minutes', (p) => ({ ...p, codeLifetimeMinutes: 0 }), /^codeLifetimeMinutes:/],
      ['a negative idle timeout', (p) => ({ ...p, idleTimeoutMinutes: -1 }), /^idleTimeoutMinutes:/],
      ['a fractional maximum length', (p) => ({ ...p, maxSessionMinutes: 1.5 }), /^maxSessionMinutes:/],
      [
        'a maximum length past a week',
        (p) => ({ ...p, maxSessionMinutes: 7 * 24 * 60 + 1 }),
        /^maxSessionMinutes:/,
      ],
      [
        'a mode that is not a boolean',
        (p) => ({ ...p, modes: { ...p.modes, control: 'yes' } }),
        /^modes\.control:/,
      ],
      [
        'an unknown role',
        (p) => ({ ...p, unattended: { allowed: true, roles: ['root'] } }),
        /^unattended\.roles\.0:/,
      ],
      ['a missing field', ({ consentRequired: _, ...rest }) => rest, /^consentRequired:/],
      ['a body that is not JSON', () => '{"modes":', /./],
    ];
    for (const [what, change, field] of INVALID) {
      it(`a policy with ${what} is refused with 400 VALIDATION_FAILED and changes nothing`, async () => {
        const { group } = await groupWith({ ...DEFAULT_POLICY });
        const problem = await assertProblem(
          await putPolicy(group.id, change({ ...DEFAULT_POLICY })),
          400,
          'VALIDATION_FAILED',
        );
        assert.match(problem.detail, field);
        const after = await expectJson<GroupView>(await api.get(`/api/groups/${group.id}`, admin), 200);
        assert.deepEqual(after.policy, DEFAULT_POLICY);
      });
    }

    it('a group stored by an older version, its policy lacking newer fields, is read with the defaults for them, and its sessions get the whole policy', async () => {
      const { group, key } = await groupWith({ ...DEFAULT_POLICY, elevatedTools: true });
      const { modes, elevatedTools } = { ...DEFAULT_POLICY, elevatedTools: true };
      // As an older version wrote it: only some of today's fields.
      await cp.services.db
        .update(deviceGroups)
        .set({ policy: { modes, elevatedTools } as unknown as Policy })
        .where(eq(deviceGroups.id, group.id));
      const read = await expectJson<GroupView>(await api.get(`/api/groups/${group.id}`, admin), 200);
      assert.deepEqual(read.policy, { ...DEFAULT_POLICY, elevatedTools: true });
      const registered = await expectJson<{ sessionId: string; policy: Policy }>(await register(key), 201);
      assert.deepEqual(registered.policy, { ...DEFAULT_POLICY, elevatedTools: true });
      const session = await expectJson<SessionView>(
        await api.get(`/api/sessions/${registered.sessionId}`, admin),
        200,
      );
      assert.deepEqual(session.policy, { ...DEFAULT_POLICY, elevatedTools: true });
    });

    it('a change is audited with the policy before and after, and who made it', async () => {
      const { group } = await groupWith({ ...DEFAULT_POLICY });
      const changed: Policy = { ...DEFAULT_POLICY, elevatedTools: true, codeLifetimeMinutes: 5 };
      const updated = await expectJson<GroupView>(await putPolicy(group.id, changed), 200);
      assert.deepEqual(updated.policy, changed);
      const events = await expectJson<Page<AuditEvent>>(
        await api.get('/api/audit-events?action=policy.update', admin),
        200,
      );
      const event = events.items.find((item) => item.details?.['groupId'] === group.id);
      assert.ok(event, 'the change is in the audit events');
      assert.equal(event.action, 'policy.update');
      assert.deepEqual([event.actorType, event.actorId], ['operator', adminId]);
      assert.deepEqual(event.details?.['before'], DEFAULT_POLICY);
      assert.deepEqual(event.details?.['after'], changed);
    });

    it('a session created after a change gets the new policy; one created before keeps its own', async () => {
      const { group, key } = await groupWith({ ...DEFAULT_POLICY });
      const earlier = await expectJson<AgentRegistration>(await register(key), 201);
      const changed: Policy = {
        ...DEFAULT_POLICY,
        modes: { ...DEFAULT_POLICY.modes, control: false, shell: false },
        idleTimeoutMinutes: 7,
      };
      await expectJson(await putPolicy(group.id, changed), 200);
      const later = await expectJson<AgentRegistration>(await register(key), 201);
      assert.deepEqual(later.policy, changed);
      const laterView = await expectJson<SessionView>(
        await api.get(`/api/sessions/${later.sessionId}`, admin),
        200,
      );
      assert.deepEqual(laterView.policy, changed);
      assert.equal(laterView.deviceGroupId, group.id);
      const earlierView = await expectJson<SessionView>(
        await api.get(`/api/sessions/${earlier.sessionId}`, admin),
        200,
      );
      assert.deepEqual(
        earlierView.policy,
        DEFAULT_POLICY,
        'the policy of a session is fixed when it is created',
      );
      // An operator-first session of the group gets it too.
      const created = await expectJson<{ session: SessionView }>(
        await api.post('/api/sessions', admin, { deviceGroupId: group.id }),
        201,
      );
      assert.deepEqual(created.session.policy, changed);
    });

    it("the session's policy is signed into the agent's policyToken, verifiable with the published key set", async () => {
      const policy: Policy = { ...DEFAULT_POLICY, recordingMandatory: true, maxSessionMinutes: 45 };
      const { key } = await groupWith(policy);
      const grant = await expectJson<AgentRegistration>(await register(key), 201);
      assert.deepEqual(grant.policy, policy);
      const decoded = decodeJwt(grant.policyToken);
      assert.deepEqual(decoded['pol'], policy);
      assert.equal(decoded.sub, grant.sessionId);
      assert.equal(decodeProtectedHeader(grant.policyToken).typ, 'lifeline-agent-policy+jwt');
      const { payload } = await jwtVerify(grant.policyToken, jwks, {
        algorithms: ['EdDSA'],
        audience: 'lifeline:agent-policy',
        issuer: cp.url,
        typ: 'lifeline-agent-policy+jwt',
      });
      assert.deepEqual(payload['pol'], policy);
      // A token whose policy was widened does not verify.
      const [header, , signature] = grant.policyToken.split('.');
      const widened = Buffer.from(
        JSON.stringify({
          ...decoded,
          pol: { ...policy, modes: { ...policy.modes, shell: true }, elevatedTools: true },
        }),
      ).toString('base64url');
      await assert.rejects(
        jwtVerify(`${header}.${widened}.${signature}`, jwks, { audience: 'lifeline:agent-policy' }),
      );
    });
  });

  describe('registration keys', () => {
    it('a registration key enrols an agent into its group, whose organisation the session then belongs to', async () => {
      const organisation = await expectJson<{ id: string }>(
        await api.post('/api/organisations', admin, { name: `enrolled ${++unique}` }),
        201,
      );
      const group = await expectJson<GroupView>(
        await api.post('/api/groups', admin, { name: 'branch', organisationId: organisation.id }),
        201,
      );
      assert.equal(group.hasRegistrationKey, false);
      const { registrationKey } = await expectJson<{ registrationKey: string }>(
        await api.post(`/api/groups/${group.id}/registration-key`, admin),
        200,
      );
      assert.ok(registrationKey.startsWith('llr_'));
      const grant = await expectJson<AgentRegistration>(await register(registrationKey), 201);
      const session = await expectJson<SessionView>(
        await api.get(`/api/sessions/${grant.sessionId}`, admin),
        200,
      );
      assert.deepEqual([session.deviceGroupId, session.organisationId], [group.id, organisation.id]);
      const shown = await expectJson<GroupView>(await api.get(`/api/groups/${group.id}`, admin), 200);
      assert.equal(shown.hasRegistrationKey, true);
      assert.ok(!JSON.stringify(shown).includes(registrationKey), 'the key is shown only once');
      // Without a key, an agent lands in the first organisation's default group.
      const plain = await expectJson<AgentRegistration>(await register(), 201);
      const plainView = await expectJson<SessionView>(
        await api.get(`/api/sessions/${plain.sessionId}`, admin),
        200,
      );
      assert.notEqual(plainView.deviceGroupId, group.id);
    });

    it('a rotated key stops the old one (403 FORBIDDEN) and the new one enrols', async () => {
      const { group, key: first } = await groupWith({ ...DEFAULT_POLICY });
      await expectJson(await register(first), 201);
      const { registrationKey: second } = await expectJson<{ registrationKey: string }>(
        await api.post(`/api/groups/${group.id}/registration-key`, admin),
        200,
      );
      assert.notEqual(second, first);
      await assertProblem(await register(first), 403, 'FORBIDDEN');
      const grant = await expectJson<AgentRegistration>(await register(second), 201);
      const session = await expectJson<SessionView>(
        await api.get(`/api/sessions/${grant.sessionId}`, admin),
        200,
      );
      assert.equal(session.deviceGroupId, group.id);
      await assertProblem(await register('llr_made-up'), 403, 'FORBIDDEN');
    });
  });

  describe('on the relay', () => {
    it("a policy without control: the relay does not pass an operator's input on, even when the agent's consent claims control", async () => {
      const { key } = await groupWith({
        ...DEFAULT_POLICY,
        modes: { ...DEFAULT_POLICY.modes, control: false },
      });
      const { agent, operator } = await pair(key, ALL_PERMISSIONS);
      assert.deepEqual(await inputReachingAgent(agent, operator), []);
    });

    it('with control allowed by the policy, the same input reaches the agent (the check above can fail)', async () => {
      const { key } = await groupWith({ ...DEFAULT_POLICY });
      const { agent, operator } = await pair(key, ALL_PERMISSIONS);
      const received = await inputReachingAgent(agent, operator);
      assert.deepEqual(
        received.map((message) => message.event),
        INPUT_EVENTS,
      );
    });

    it('input an operator sends right after its welcome, on a session already consented, is not lost', async () => {
      const { key } = await groupWith({ ...DEFAULT_POLICY });
      const { agent, operator, grant } = await pair(key, ALL_PERMISSIONS);
      // One operator holds control at a time (README "Several operators"): the first leaves, so the
      // one who joins next holds it from its welcome on.
      await operator.close();
      await agent.next('operator-left');
      const join = await expectJson<{ relay: { url: string; token: string } }>(
        await api.post(`/api/sessions/${grant.sessionId}/join`, admin),
        200,
      );
      const second = track(
        await RelayClient.connect(join.relay.url, { hello: { role: 'operator', token: join.relay.token } }),
      );
      const welcome = await second.next('welcome');
      assert.equal(welcome.permissions?.control, true);
      const received = await inputReachingAgent(agent, second);
      assert.deepEqual(
        received.map((message) => message.event),
        INPUT_EVENTS,
      );
    });

    it('a session idle past the policy’s idle timeout ends with idle-timeout, and both sockets are told', async () => {
      const { key } = await groupWith({ ...DEFAULT_POLICY, idleTimeoutMinutes: 5, maxSessionMinutes: 0 });
      const { agent, operator, grant } = await pair(key);
      cp.services.relay.enforceLimits(Date.now() + 4 * MINUTE_MS);
      assert.equal(cp.services.relay.isLive(grant.sessionId), true, 'four idle minutes of five end nothing');
      cp.services.relay.enforceLimits(Date.now() + 6 * MINUTE_MS);
      assert.equal((await agent.next('end')).reason, 'idle-timeout');
      assert.equal((await operator.next('end')).reason, 'idle-timeout');
      await Promise.all([agent.waitClosed(), operator.waitClosed()]);
      assert.equal((await waitUntilEnded(api, admin, grant.sessionId)).endReason, 'idle-timeout');
    });

    it('a session past the policy’s maximum length ends with max-duration, and both sockets are told', async () => {
      const { key } = await groupWith({ ...DEFAULT_POLICY, idleTimeoutMinutes: 0, maxSessionMinutes: 10 });
      const { agent, operator, grant } = await pair(key);
      cp.services.relay.enforceLimits(Date.now() + 9 * MINUTE_MS);
      assert.equal(cp.services.relay.isLive(grant.sessionId), true, 'nine minutes of ten end nothing');
      cp.services.relay.enforceLimits(Date.now() + 11 * MINUTE_MS);
      assert.equal((await agent.next('end')).reason, 'max-duration');
      assert.equal((await operator.next('end')).reason, 'max-duration');
      await Promise.all([agent.waitClosed(), operator.waitClosed()]);
      assert.equal((await waitUntilEnded(api, admin, grant.sessionId)).endReason, 'max-duration');
    });

    it('with neither limit set, a session is not ended however long it lasts', async () => {
      const { key } = await groupWith({ ...DEFAULT_POLICY, idleTimeoutMinutes: 0, maxSessionMinutes: 0 });
      const { agent, grant } = await pair(key);
      cp.services.relay.enforceLimits(Date.now() + 30 * 24 * 60 * MINUTE_MS);
      assert.equal(cp.services.relay.isLive(grant.sessionId), true);
      assert.equal(agent.messages('end').length, 0);
    });
  });
});

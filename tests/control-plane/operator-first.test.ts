import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { CONNECTION_CODE_DIGITS, type Policy } from '../../protocol/index.ts';
import {
  type ApiClient,
  type AuditEvent,
  assertProblem,
  type Credentials,
  createOperator,
  createToken,
  expectJson,
  freshAddress,
  readAllPages,
  registeredAgent,
  type SessionView,
  startWithAdmin,
} from '../support/api.ts';
import type { TestControlPlane } from '../support/control-plane.ts';
import { permissionsWith } from '../support/permissions.ts';
import { closeAll, RelayClient } from './relay-client.ts';

/** How long the waits below may be held, in seconds: far longer than anything they wait for. */
const LONG_WAIT_SECONDS = 30;

interface SessionCode {
  session: SessionView;
  code: string;
  displayCode: string;
  codeExpiresAt: string;
  downloads: Record<string, string>;
}

interface AgentJoin {
  sessionId: string;
  relay: { url: string; token: string };
  policy: Policy;
  policyToken: string;
}

type Waited = SessionView & { reached: boolean };

describe('operator-first sessions from a script', () => {
  let cp: TestControlPlane;
  let api: ApiClient;
  let admin: Credentials;
  let adminId: string;
  /** The script's API token and its id. */
  let script: Credentials;
  let scriptTokenId: string;
  const sockets: RelayClient[] = [];

  function track(client: RelayClient): RelayClient {
    sockets.push(client);
    return client;
  }

  async function createSession(who: Credentials = script, headers: Record<string, string> = {}) {
    return expectJson<SessionCode>(await api.post('/api/sessions', who, {}, { headers }), 201);
  }

  /** The agent's side of the operator-first flow: it joins with the code the operator gave. */
  function agentJoin(code: string): Promise<Response> {
    return api.post(
      '/api/agent/join',
      undefined,
      { code, name: 'test-agent', version: '0.0.0', hostname: 'pc' },
      { address: freshAddress() },
    );
  }

  function wait(sessionId: string, until: string, timeoutSeconds: number, who: Credentials = script) {
    return api
      .get(`/api/sessions/${sessionId}/wait?until=${until}&timeout=${timeoutSeconds}`, who)
      .then((response) => expectJson<Waited>(response, 200));
  }

  /** Connects an agent to the relay with the grant it got from /agent/join. */
  async function connectAgent(grant: AgentJoin): Promise<RelayClient> {
    const agent = track(
      await RelayClient.connect(grant.relay.url, { hello: { role: 'agent', token: grant.relay.token } }),
    );
    await agent.next('welcome');
    return agent;
  }

  before(async () => {
    const started = await startWithAdmin({ listen: true });
    ({ cp, api, admin } = started);
    adminId = started.me.id;
    const token = await createToken(api, admin, ['sessions:read', 'sessions:write', 'audit:read'], 'script');
    script = { token: token.token };
    scriptTokenId = token.id;
  });

  after(() => closeAll(sockets, cp));

  describe('creating a session', () => {
    it('a script creates a session and gets its code, display code, expiry and download links', async () => {
      const created = await createSession();
      assert.match(created.code, new RegExp(`^\\d{${CONNECTION_CODE_DIGITS}}$`));
      assert.equal(created.displayCode.replace(/\D/g, ''), created.code);
      assert.notEqual(created.displayCode, created.code, 'the display code is grouped for reading aloud');
      assert.ok(Date.parse(created.codeExpiresAt) > Date.now(), 'the code has not expired yet');
      assert.equal(created.session.codeExpiresAt, created.codeExpiresAt);
      assert.deepEqual(Object.keys(created.downloads).sort(), ['linux-x64', 'win-x64']);
      for (const link of Object.values(created.downloads)) {
        const url = new URL(link);
        assert.equal(url.origin, cp.url);
        assert.equal(url.searchParams.get('session'), created.session.id);
      }
      assert.equal(created.session.status, 'waiting');
      assert.equal(created.session.initiator, 'operator');
      assert.equal(created.session.operatorId, adminId, "the token's owner operates the session");
      assert.equal(created.session.agentConnected, false);
    });

    it('the same Idempotency-Key returns the same session and code, marked idempotent-replayed', async () => {
      const key = randomUUID();
      const first = await api.post('/api/sessions', script, {}, { headers: { 'idempotency-key': key } });
      assert.equal(first.headers.get('idempotent-replayed'), null);
      const original = await expectJson<SessionCode>(first, 201);
      const again = await api.post('/api/sessions', script, {}, { headers: { 'idempotency-key': key } });
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const replayed = await expectJson<SessionCode>(again, 201);
      assert.equal(replayed.session.id, original.session.id);
      assert.equal(replayed.code, original.code);
      // Another key, or the same key from another principal, creates another session.
      const other = await createSession(script, { 'idempotency-key': randomUUID() });
      assert.notEqual(other.session.id, original.session.id);
      const fromAdmin = await createSession(admin, { 'idempotency-key': key });
      assert.notEqual(fromAdmin.session.id, original.session.id);
    });

    it('the same Idempotency-Key with a different body is refused with 422 IDEMPOTENCY_MISMATCH', async () => {
      const key = randomUUID();
      const created = await createSession(script, { 'idempotency-key': key });
      const problem = await assertProblem(
        await api.post(
          '/api/sessions',
          script,
          { deviceGroupId: created.session.deviceGroupId },
          { headers: { 'idempotency-key': key } },
        ),
        422,
        'IDEMPOTENCY_MISMATCH',
      );
      assert.match(problem.detail, /Idempotency-Key/);
    });
  });

  describe('waiting for the agent and the operator', () => {
    it('a script waits for the agent, joins, waits for consent, and ends the session', async () => {
      const created = await createSession();
      const id = created.session.id;

      const before = await wait(id, 'agent-connected', 1);
      assert.equal(before.reached, false);
      assert.equal(before.agentConnected, false);

      const grant = await expectJson<AgentJoin>(await agentJoin(created.code), 200);
      assert.equal(grant.sessionId, id);
      assert.match(grant.relay.url, /^ws:\/\/.+\/ws$/);
      assert.ok(grant.relay.token.length > 0);
      assert.deepEqual(grant.policy, created.session.policy);
      assert.deepEqual(decodeJwt(grant.policyToken)['pol'], created.session.policy);
      assert.equal(decodeJwt(grant.policyToken).sub, id);

      // Having the grant is not being connected: only the agent's socket on the relay is.
      const granted = await wait(id, 'agent-connected', 1);
      assert.equal(
        granted.reached,
        false,
        'an agent that joined over HTTP but is not on the relay is not connected',
      );

      const startedAt = performance.now();
      const waiting = wait(id, 'agent-connected', LONG_WAIT_SECONDS);
      const agent = await connectAgent(grant);
      const connected = await waiting;
      const elapsedMs = performance.now() - startedAt;
      assert.equal(connected.reached, true);
      assert.equal(connected.agentConnected, true);
      assert.ok(
        elapsedMs < LONG_WAIT_SECONDS * 1000,
        'the wait returned when the agent connected, not at its timeout',
      );

      const join = await expectJson<{ session: SessionView; relay: { url: string; token: string } }>(
        await api.post(`/api/sessions/${id}/join`, script),
        200,
      );
      const operator = track(
        await RelayClient.connect(join.relay.url, { hello: { role: 'operator', token: join.relay.token } }),
      );
      await operator.next('welcome');
      assert.equal((await agent.next('operator-joined')).operator.id, adminId);

      const activating = wait(id, 'active', LONG_WAIT_SECONDS);
      agent.send({
        type: 'consent',
        accepted: true,
        permissions: permissionsWith({ view: true, chat: true }),
      });
      const active = await activating;
      assert.equal(active.reached, true);
      assert.equal(active.status, 'active');

      const ended = await expectJson<SessionView>(await api.post(`/api/sessions/${id}/end`, script), 200);
      assert.deepEqual([ended.status, ended.endReason], ['ended', 'operator-ended']);
      assert.equal((await agent.next('end')).reason, 'operator-ended');
      assert.equal((await operator.next('end')).reason, 'operator-ended');
      await Promise.all([agent.waitClosed(), operator.waitClosed()]);
      assert.equal((await wait(id, 'ended', 0)).reached, true);
    });

    it('an operator cannot join before the agent is on the relay (409 AGENT_OFFLINE)', async () => {
      const created = await createSession();
      await assertProblem(
        await api.post(`/api/sessions/${created.session.id}/join`, script),
        409,
        'AGENT_OFFLINE',
      );
      await expectJson(await agentJoin(created.code), 200);
      await assertProblem(
        await api.post(`/api/sessions/${created.session.id}/join`, script),
        409,
        'AGENT_OFFLINE',
      );
    });

    it('a session whose agent arrived is listed as waiting with its agent connected, and any technician of its organisation may join it, not one of another organisation nor an auditor', async () => {
      const organisations = await expectJson<{ items: { id: string }[] }>(
        await api.get('/api/organisations', admin),
        200,
      );
      const home = organisations.items[0]!.id;
      const other = (
        await expectJson<{ id: string }>(
          await api.post('/api/organisations', admin, { name: 'Elsewhere' }),
          201,
        )
      ).id;
      const colleague = await createOperator(api, admin, {
        username: 'colleague',
        role: 'technician',
        organisationId: home,
      });
      const auditor = await createOperator(api, admin, {
        username: 'watcher',
        role: 'auditor',
        organisationId: home,
      });
      const stranger = await createOperator(api, admin, {
        username: 'stranger',
        role: 'technician',
        organisationId: other,
      });

      // Created by a script and left alone: nobody is waiting for its agent in a console.
      const created = await createSession();
      const agent = await connectAgent(await expectJson<AgentJoin>(await agentJoin(created.code), 200));
      const listed = await expectJson<{ items: SessionView[] }>(
        await api.get('/api/sessions?status=waiting', { cookie: colleague.cookie }),
        200,
      );
      const row = listed.items.find((item) => item.id === created.session.id);
      assert.equal(row?.initiator, 'operator');
      assert.equal(row?.agentConnected, true, 'the list can tell the device is here');

      await assertProblem(
        await api.post(`/api/sessions/${created.session.id}/join`, { cookie: stranger.cookie }),
        404,
        'SESSION_NOT_FOUND',
      );
      await assertProblem(
        await api.post(`/api/sessions/${created.session.id}/join`, { cookie: auditor.cookie }),
        403,
        'FORBIDDEN',
      );
      const grant = await expectJson<{ session: SessionView; relay: { token: string } }>(
        await api.post(`/api/sessions/${created.session.id}/join`, { cookie: colleague.cookie }),
        200,
      );
      assert.equal(grant.session.id, created.session.id);
      assert.ok(grant.relay.token.length > 0);
      await expectJson(await api.post(`/api/sessions/${created.session.id}/end`, admin), 200);
      await agent.waitClosed();
    });
  });

  describe('codes of waiting sessions', () => {
    it('renewing the code stops the old one (404 CODE_INVALID) and the new one works', async () => {
      const created = await createSession();
      const renewed = await expectJson<SessionCode>(
        await api.post(`/api/sessions/${created.session.id}/code`, script),
        200,
      );
      assert.equal(renewed.session.id, created.session.id);
      assert.notEqual(renewed.code, created.code);
      await assertProblem(await agentJoin(created.code), 404, 'CODE_INVALID');
      const grant = await expectJson<AgentJoin>(await agentJoin(renewed.code), 200);
      assert.equal(grant.sessionId, created.session.id);
      // Once the agent has joined, there is nothing to renew.
      await assertProblem(
        await api.post(`/api/sessions/${created.session.id}/code`, script),
        409,
        'CONFLICT',
      );
    });

    it("extending moves the code's expiry later, and the code still works", async () => {
      const created = await createSession();
      // Extending sets the expiry a full lifetime from now: let the clock leave the creation's millisecond.
      const answeredAt = Date.now();
      while (Date.now() <= answeredAt) await new Promise((resolve) => setTimeout(resolve, 1));
      const extended = await expectJson<SessionView>(
        await api.post(`/api/sessions/${created.session.id}/extend`, script),
        200,
      );
      assert.ok(
        Date.parse(extended.codeExpiresAt ?? '') > Date.parse(created.codeExpiresAt),
        `${extended.codeExpiresAt} is after ${created.codeExpiresAt}`,
      );
      const shown = await expectJson<SessionView>(
        await api.get(`/api/sessions/${created.session.id}`, script),
        200,
      );
      assert.equal(shown.codeExpiresAt, extended.codeExpiresAt);
      await expectJson(await agentJoin(created.code), 200);
    });

    it('an operator-first code cannot be redeemed by an operator, nor a user-first code used by an agent to join (404 CODE_INVALID)', async () => {
      const operatorFirst = await createSession();
      await assertProblem(
        await api.post(
          '/api/sessions/redeem',
          admin,
          { code: operatorFirst.code },
          { address: freshAddress() },
        ),
        404,
        'CODE_INVALID',
      );
      const userFirst = await registeredAgent(api);
      await assertProblem(await agentJoin(userFirst.code), 404, 'CODE_INVALID');
      // Neither refusal used a code up: each still works where it belongs.
      await expectJson(await agentJoin(operatorFirst.code), 200);
      await expectJson(
        await api.post('/api/sessions/redeem', admin, { code: userFirst.code }, { address: freshAddress() }),
        200,
      );
    });

    it('a code an agent already joined with is refused to another agent with 409 CODE_USED', async () => {
      const created = await createSession();
      await expectJson(await agentJoin(created.code), 200);
      await assertProblem(await agentJoin(created.code), 409, 'CODE_USED');
    });

    it('the code of a user-first session is not renewed (409 CONFLICT), and the code the user sees keeps working', async () => {
      const userFirst = await registeredAgent(api);
      await assertProblem(
        await api.post(`/api/sessions/${userFirst.sessionId}/code`, script),
        409,
        'CONFLICT',
      );
      const redeemed = await expectJson<{ session: SessionView }>(
        await api.post('/api/sessions/redeem', admin, { code: userFirst.code }, { address: freshAddress() }),
        200,
      );
      assert.equal(redeemed.session.id, userFirst.sessionId);
    });
  });

  describe('audit events', () => {
    it('a script pages through audit events newest first, two at a time, each exactly once', async () => {
      await createSession();
      const { items, pages } = await readAllPages<AuditEvent>(api, '/api/audit-events?limit=2', script);
      const ids = items.map((event) => event.id);
      assert.equal(new Set(ids).size, ids.length, 'no event twice');
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! > ids[i]!, 'newest first');
      const all = await expectJson<{ items: AuditEvent[]; nextCursor: string | null }>(
        await api.get('/api/audit-events?limit=500', script),
        200,
      );
      assert.equal(all.nextCursor, null);
      assert.deepEqual(
        ids,
        all.items.map((event) => event.id),
        'paging two at a time finds the same events as one page',
      );
      assert.equal(pages, Math.ceil(ids.length / 2), 'the last page says there is no next one');
      assert.ok(ids.length > 4, 'there was something to page through');
    });

    it('every change a token makes, and every join it asks for, is attributed to the token in the audit events', async () => {
      const { id: tokenId, token } = await createToken(
        api,
        admin,
        ['sessions:read', 'sessions:write', 'audit:read'],
        'attributed',
      );
      const own: Credentials = { token };
      const created = await createSession(own);
      await expectJson(await api.post(`/api/sessions/${created.session.id}/extend`, own), 200);
      const renewed = await expectJson<SessionCode>(
        await api.post(`/api/sessions/${created.session.id}/code`, own),
        200,
      );
      const agent = await connectAgent(await expectJson<AgentJoin>(await agentJoin(renewed.code), 200));
      await expectJson(await api.post(`/api/sessions/${created.session.id}/join`, own), 200);
      await expectJson(await api.post(`/api/sessions/${created.session.id}/end`, own), 200);
      await agent.waitClosed();

      const { items } = await readAllPages<AuditEvent>(
        api,
        `/api/audit-events?sessionId=${created.session.id}&limit=2`,
        own,
      );
      const byToken = items.filter((event) => event.actorType === 'api-token');
      for (const event of byToken) {
        assert.equal(event.actorId, `${adminId}/${tokenId}`, 'the owner and the token are both named');
      }
      assert.deepEqual(byToken.map((event) => event.action).sort(), [
        'session.code-extend',
        'session.code-renew',
        'session.create',
        'session.end',
        'session.join-grant',
      ]);
      assert.ok(
        items.every((event) => !event.actorId?.includes(scriptTokenId)),
        "another token's uses are not mixed in",
      );
    });
  });
});

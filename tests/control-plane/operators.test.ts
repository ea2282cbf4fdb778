import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { currentTotp, verifyTotp } from '../../control-plane/auth/totp.ts';
import { CloseCode } from '../../protocol/index.ts';
import {
  type ApiClient,
  assertProblem,
  type Credentials,
  cookieOf,
  createOperator,
  expectJson,
  freshAddress,
  login,
  OPERATOR_PASSWORD,
  type OperatorView,
  registeredAgent,
  startWithAdmin,
  whoAmI,
} from '../support/api.ts';
import type { TestControlPlane } from '../support/control-plane.ts';
import { closeAll, RelayClient } from './relay-client.ts';

/** What the issue asks of disabling an operator: every socket they hold closed within two seconds. */
const DISABLE_CLOSES_SOCKETS_WITHIN_MS = 2_000;

describe('operators', () => {
  let cp: TestControlPlane;
  let api: ApiClient;
  let admin: Credentials;
  let adminId: string;
  let orgA: string;
  const sockets: RelayClient[] = [];
  let unique = 0;

  function track(client: RelayClient): RelayClient {
    sockets.push(client);
    return client;
  }

  /** A user-first agent of organisation A on the relay, welcomed to its session. */
  async function connectAgent() {
    const registration = await registeredAgent(api);
    const agent = track(
      await RelayClient.connect(registration.relay.url, {
        hello: { role: 'agent', token: registration.relay.token },
      }),
    );
    await agent.next('welcome');
    return { agent, registration };
  }

  /** An operator socket on a session, through the console's path: a relay grant, then a hello. */
  async function connectOperator(grant: { relay: { url: string; token: string } }) {
    const operator = track(
      await RelayClient.connect(grant.relay.url, { hello: { role: 'operator', token: grant.relay.token } }),
    );
    await operator.next('welcome');
    return operator;
  }

  /** A new operator in organisation A, signed in, with `role`. */
  const inOrgA = (username: string, role = 'technician') =>
    createOperator(api, admin, { username, role, organisationId: orgA });

  async function redeem(code: string, who: Credentials) {
    return expectJson<{ session: { id: string }; relay: { url: string; token: string } }>(
      await api.post('/api/sessions/redeem', who, { code }, { address: freshAddress() }),
      200,
    );
  }

  before(async () => {
    const started = await startWithAdmin({ listen: true });
    ({ cp, api, admin } = started);
    const { me } = started;
    adminId = me.id;
    orgA = me.organisationId;
  });

  after(() => closeAll(sockets, cp));

  describe('creating and changing operators', () => {
    it('an administrator creates an operator with a role in an organisation, who can then log in', async () => {
      const { operator, cookie } = await createOperator(api, admin, {
        username: 'tech.one',
        role: 'technician',
        organisationId: orgA,
        name: 'Tech One',
      });
      assert.deepEqual(
        {
          username: operator.username,
          name: operator.name,
          role: operator.role,
          org: operator.organisationId,
        },
        { username: 'tech.one', name: 'Tech One', role: 'technician', org: orgA },
      );
      assert.equal(operator.disabled, false);
      const shown = JSON.stringify(operator);
      assert.ok(!/password|hash|secret|scrypt/i.test(shown), `the operator view holds a secret: ${shown}`);
      assert.equal((await whoAmI(api, { cookie })).id, operator.id);
    });

    it('a password shorter than 12 characters is refused with 400 VALIDATION_FAILED, on create and on change', async () => {
      const short = 'elevenchars';
      assert.equal(short.length, 11);
      const problem = await assertProblem(
        await api.post('/api/operators', admin, {
          username: 'short-password',
          name: 'Short',
          password: short,
          role: 'technician',
          organisationId: orgA,
        }),
        400,
        'VALIDATION_FAILED',
      );
      assert.match(problem.detail, /^password:/);
      const { operator } = await inOrgA('changes-password');
      await assertProblem(
        await api.patch(`/api/operators/${operator.id}`, admin, { password: short }),
        400,
        'VALIDATION_FAILED',
      );
      // Twelve characters are enough.
      await expectJson(
        await api.patch(`/api/operators/${operator.id}`, admin, { password: 'twelve chars' }),
        200,
      );
      await expectJson(await login(api, 'changes-password', 'twelve chars'), 200);
    });

    it('a username already taken is refused with 409 CONFLICT', async () => {
      await inOrgA('taken', 'auditor');
      await assertProblem(
        await api.post('/api/operators', admin, {
          username: 'taken',
          name: 'Someone else',
          password: OPERATOR_PASSWORD,
          role: 'manager',
          organisationId: orgA,
        }),
        409,
        'CONFLICT',
      );
    });

    it('an organisation that does not exist is refused with 404 NOT_FOUND, on create and on change', async () => {
      await assertProblem(
        await api.post('/api/operators', admin, {
          username: 'nowhere',
          name: 'Nowhere',
          password: OPERATOR_PASSWORD,
          role: 'technician',
          organisationId: 'no-such-organisation',
        }),
        404,
        'NOT_FOUND',
      );
      const { operator } = await inOrgA('moves');
      await assertProblem(
        await api.patch(`/api/operators/${operator.id}`, admin, { organisationId: 'no-such-organisation' }),
        404,
        'NOT_FOUND',
      );
    });

    it('changing the role of an operator ends their logins, and the change is audited with before and after', async () => {
      const { operator, cookie } = await inOrgA('promoted');
      const updated = await expectJson<OperatorView>(
        await api.patch(`/api/operators/${operator.id}`, admin, { role: 'manager' }),
        200,
      );
      assert.equal(updated.role, 'manager');
      await assertProblem(await api.get('/api/auth/me', { cookie }), 401, 'UNAUTHENTICATED');
      const events = await expectJson<{ items: { actorId: string; details: Record<string, unknown> }[] }>(
        await api.get('/api/audit-events?action=operator.update', admin),
        200,
      );
      const event = events.items.find((item) => item.details['operatorId'] === operator.id);
      assert.ok(event, 'the change is audited');
      assert.equal(event.actorId, adminId);
      assert.deepEqual(
        [
          (event.details['before'] as { role: string }).role,
          (event.details['after'] as { role: string }).role,
        ],
        ['technician', 'manager'],
      );
    });

    it('an administrator cannot disable themselves or give up their own administrator role (409 CONFLICT)', async () => {
      await assertProblem(
        await api.patch(`/api/operators/${adminId}`, admin, { disabled: true }),
        409,
        'CONFLICT',
      );
      await assertProblem(
        await api.patch(`/api/operators/${adminId}`, admin, { role: 'manager' }),
        409,
        'CONFLICT',
      );
      const me = await whoAmI(api, admin);
      assert.deepEqual([me.role, me.disabled], ['admin', false]);
    });
  });

  describe('disabling an operator', () => {
    it(`closes their live relay socket within ${DISABLE_CLOSES_SOCKETS_WITHIN_MS} ms and refuses their cookie afterwards`, async () => {
      const { operator: account, cookie } = await inOrgA(`disabled-${++unique}`);
      const { agent, registration } = await connectAgent();
      const operator = await connectOperator(await redeem(registration.code, { cookie }));
      await agent.next('operator-joined');

      const response = await api.patch(`/api/operators/${account.id}`, admin, { disabled: true });
      const answeredAt = performance.now();
      assert.equal((await expectJson<OperatorView>(response, 200)).disabled, true);
      const closed = await operator.waitClosed(DISABLE_CLOSES_SOCKETS_WITHIN_MS);
      const elapsedMs = performance.now() - answeredAt;
      assert.ok(
        elapsedMs <= DISABLE_CLOSES_SOCKETS_WITHIN_MS,
        `closed ${Math.round(elapsedMs)} ms after the PATCH answered`,
      );
      assert.equal(closed.code, CloseCode.policy);

      await assertProblem(await api.get('/api/auth/me', { cookie }), 401, 'UNAUTHENTICATED');
      await assertProblem(await api.get('/api/sessions', { cookie }), 401, 'UNAUTHENTICATED');
      await assertProblem(await login(api, account.username, OPERATOR_PASSWORD), 401, 'UNAUTHENTICATED');
      // The agent is told the operator left; the session itself goes on for others.
      assert.equal((await agent.next('operator-left')).operatorId, account.id);
      assert.equal(agent.isClosed, false);
      await agent.close();
    });

    it('a relay grant fetched before the disable no longer opens a socket afterwards', async () => {
      const { operator: account, cookie } = await inOrgA(`disabled-${++unique}`);
      const { agent, registration } = await connectAgent();
      const grant = await redeem(registration.code, { cookie });
      await expectJson(await api.patch(`/api/operators/${account.id}`, admin, { disabled: true }), 200);
      const operator = track(
        await RelayClient.connect(grant.relay.url, { hello: { role: 'operator', token: grant.relay.token } }),
      );
      assert.equal((await operator.next('error')).code, 'TOKEN_INVALID');
      await operator.waitClosed();
      assert.equal(agent.messages('operator-joined').length, 0, 'the agent never saw the operator join');
      await agent.close();
    });

    it("moving an operator to another organisation closes their sockets on the old organisation's sessions", async () => {
      const { operator: account, cookie } = await inOrgA(`moved-${++unique}`);
      const orgB = await expectJson<{ id: string }>(
        await api.post('/api/organisations', admin, { name: `elsewhere ${unique}` }),
        201,
      );
      const { agent, registration } = await connectAgent();
      const operator = await connectOperator(await redeem(registration.code, { cookie }));
      await agent.next('operator-joined');
      await expectJson(
        await api.patch(`/api/operators/${account.id}`, admin, { organisationId: orgB.id }),
        200,
      );
      assert.equal((await operator.waitClosed()).code, CloseCode.policy);
      await assertProblem(await api.get('/api/auth/me', { cookie }), 401, 'UNAUTHENTICATED');
      await agent.close();
    });

    it('a disabled operator enabled again can log in again', async () => {
      const { operator: account } = await inOrgA(`disabled-${++unique}`, 'auditor');
      await expectJson(await api.patch(`/api/operators/${account.id}`, admin, { disabled: true }), 200);
      await assertProblem(await login(api, account.username, OPERATOR_PASSWORD), 401, 'UNAUTHENTICATED');
      await expectJson(await api.patch(`/api/operators/${account.id}`, admin, { disabled: false }), 200);
      await expectJson(await login(api, account.username, OPERATOR_PASSWORD), 200);
    });
  });

  describe('logging out', () => {
    it("closes that login's relay sockets and leaves the same operator's other logins connected", async () => {
      const { operator: account, cookie: first } = await inOrgA('two-logins');
      const second = cookieOf(await login(api, account.username, OPERATOR_PASSWORD));
      const { agent, registration } = await connectAgent();
      const grant = await redeem(registration.code, { cookie: first });
      const onFirst = await connectOperator(grant);
      const rejoin = await expectJson<{ relay: { url: string; token: string } }>(
        await api.post(`/api/sessions/${grant.session.id}/join`, { cookie: second }),
        200,
      );
      const onSecond = await connectOperator(rejoin);
      await agent.next('operator-joined', 1);

      assert.equal((await api.post('/api/auth/logout', { cookie: first })).status, 204);
      assert.equal((await onFirst.waitClosed()).code, CloseCode.policy);
      assert.equal((await agent.next('operator-left')).operatorId, account.id);
      await assertProblem(await api.get('/api/auth/me', { cookie: first }), 401, 'UNAUTHENTICATED');
      // The other login and its socket are untouched.
      assert.equal(onSecond.isClosed, false);
      await expectJson(await api.get('/api/auth/me', { cookie: second }), 200);
      await onSecond.close();
      await agent.close();
    });
  });

  describe('second factor (TOTP)', () => {
    /** A 6-digit code the secret does not accept now (the ones a step either side are accepted too). */
    function wrongCode(secret: string): string {
      const right = Number(currentTotp(secret));
      for (let step = 1; ; step++) {
        const candidate = String((right + step) % 1_000_000).padStart(6, '0');
        if (!verifyTotp(secret, candidate)) return candidate;
      }
    }

    it('once turned on, a login needs the code: none is 401 SECOND_FACTOR_REQUIRED, a wrong one 401, the right one 200', async () => {
      const { operator, cookie } = await inOrgA('with-totp');
      const setup = await expectJson<{ secret: string; uri: string }>(
        await api.post('/api/auth/totp/setup', { cookie }),
        200,
      );
      assert.match(setup.secret, /^[A-Z2-7]+=*$/, 'a base32 secret');
      assert.ok(setup.uri.startsWith('otpauth://totp/'), setup.uri);
      // Until it is confirmed, the password alone still logs in.
      await expectJson(await login(api, operator.username, OPERATOR_PASSWORD), 200);

      await assertProblem(
        await api.post('/api/auth/totp/enable', { cookie }, { code: wrongCode(setup.secret) }),
        400,
        'VALIDATION_FAILED',
      );
      const enabled = await expectJson<{ operator: OperatorView }>(
        await api.post('/api/auth/totp/enable', { cookie }, { code: currentTotp(setup.secret) }),
        200,
      );
      assert.equal(enabled.operator.totpEnabled, true);
      assert.ok(!JSON.stringify(enabled.operator).includes(setup.secret), 'the secret is not shown again');

      const address = freshAddress();
      const missing = await login(api, operator.username, OPERATOR_PASSWORD, undefined, address);
      assert.equal(missing.headers.get('set-cookie'), null);
      await assertProblem(missing, 401, 'SECOND_FACTOR_REQUIRED');
      const wrong = await login(api, operator.username, OPERATOR_PASSWORD, wrongCode(setup.secret), address);
      assert.equal(wrong.headers.get('set-cookie'), null);
      // Still SECOND_FACTOR_REQUIRED, so the console keeps asking for the code; the detail says it was wrong.
      const refused = await assertProblem(wrong, 401, 'SECOND_FACTOR_REQUIRED');
      assert.match(refused.detail, /wrong/i);
      // The current step's code was spent turning the factor on; codes are good once, so use the next one.
      const right = await login(
        api,
        operator.username,
        OPERATOR_PASSWORD,
        currentTotp(setup.secret, Date.now() + 30_000),
        address,
      );
      await expectJson(right, 200);
      await expectJson(await api.get('/api/auth/me', { cookie: cookieOf(right) }), 200);
      // A wrong password is refused the same as before, code or not.
      await assertProblem(
        await login(api, operator.username, 'not the password at all', currentTotp(setup.secret)),
        401,
        'UNAUTHENTICATED',
      );
    });

    it('turning it on twice is refused with 409 CONFLICT, and an API token cannot set it up (403)', async () => {
      const { cookie } = await inOrgA('totp-twice');
      const { secret } = await expectJson<{ secret: string }>(
        await api.post('/api/auth/totp/setup', { cookie }),
        200,
      );
      await expectJson(
        await api.post('/api/auth/totp/enable', { cookie }, { code: currentTotp(secret) }),
        200,
      );
      await assertProblem(await api.post('/api/auth/totp/setup', { cookie }), 409, 'CONFLICT');
      await assertProblem(
        await api.post('/api/auth/totp/enable', { cookie }, { code: currentTotp(secret) }),
        409,
        'CONFLICT',
      );
      const { token } = await expectJson<{ token: string }>(
        await api.post('/api/tokens', admin, { name: 'no totp', scopes: ['admin'] }),
        201,
      );
      await assertProblem(await api.post('/api/auth/totp/setup', { token }), 403, 'FORBIDDEN');
    });
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SCOPES, type Scope } from '../../control-plane/auth/scopes.ts';
import { ALL_PERMISSIONS, DEFAULT_POLICY, ROLES, type Role } from '../../protocol/index.ts';
import { enrolDevice } from '../devices/device-support.ts';
import {
  type ApiClient,
  type AuditEvent,
  assertProblem,
  type Credentials,
  createOperator,
  createToken,
  expectJson,
  freshAddress,
  type GroupView,
  type OperatorView,
  type Page,
  registeredAgent,
  type SessionView,
  startWithAdmin,
} from '../support/api.ts';
import type { TestControlPlane } from '../support/control-plane.ts';
import { ScriptedAgent } from './scripted-agent.ts';

const Y = true;
const N = false;

/**
 * Who may do what, through the API: the spec this file checks. `needs` is the scope an API token must
 * carry for the action (tokens are also capped by their owner's role); `null` means any signed-in
 * operator or token. Refusals are 403 FORBIDDEN problems that name the missing permission.
 */
// biome-ignore format: the matrix reads as a table
const MATRIX = [
  // action                        needs            admin manager technician auditor
  ['list sessions',                 'sessions:read',  Y,    Y,      Y,         Y],
  ['get a session',                 'sessions:read',  Y,    Y,      Y,         Y],
  ['wait for a session',            'sessions:read',  Y,    Y,      Y,         Y],
  ['create a session',              'sessions:write', Y,    Y,      Y,         N],
  ['renew a code',                  'sessions:write', Y,    Y,      Y,         N],
  ['extend a code',                 'sessions:write', Y,    Y,      Y,         N],
  ['redeem a code',                 'sessions:write', Y,    Y,      Y,         N],
  ['join a session',                'sessions:write', Y,    Y,      Y,         N],
  ['end a session',                 'sessions:write', Y,    Y,      Y,         N],
  ['connect the API to a session',  'sessions:write', Y,    Y,      Y,         N],
  ['run a command',                 'exec',           Y,    Y,      Y,         N],
  ['list files',                    'files',          Y,    Y,      Y,         N],
  ['download a file',               'files',          Y,    Y,      Y,         N],
  ['upload a file',                 'files',          Y,    Y,      Y,         N],
  ['change a file',                 'files',          Y,    Y,      Y,         N],
  ['send a chat message',           'sessions:write', Y,    Y,      Y,         N],
  ['read the chat',                 'sessions:read',  Y,    Y,      Y,         Y],
  ['get a recording',               'sessions:read',  Y,    Y,      Y,         Y],
  ['watch a recording',             'sessions:read',  Y,    Y,      Y,         Y],
  ['list groups',                   'groups:read',    Y,    Y,      Y,         Y],
  ['get a group',                   'groups:read',    Y,    Y,      Y,         Y],
  ['create a group',                'groups:write',   Y,    Y,      N,         N],
  ['rename a group',                'groups:write',   Y,    Y,      N,         N],
  ['set a group policy',            'groups:write',   Y,    Y,      N,         N],
  ['issue a registration key',      'groups:write',   Y,    Y,      N,         N],
  ['list operators',                'operators:read', Y,    Y,      N,         N],
  ['create an operator',            'admin',          Y,    N,      N,         N],
  ['update an operator',            'admin',          Y,    N,      N,         N],
  ['list organisations',            null,             Y,    Y,      Y,         Y],
  ['create an organisation',        'admin',          Y,    N,      N,         N],
  ['create a token',                'admin',          Y,    N,      N,         N],
  ['list tokens',                   'admin',          Y,    N,      N,         N],
  ['revoke a token',                'admin',          Y,    N,      N,         N],
  ['list audit events',             'audit:read',     Y,    Y,      N,         Y],
  ['list devices',                  'devices:read',   Y,    Y,      Y,         Y],
  ['get a device',                  'devices:read',   Y,    Y,      Y,         Y],
  ['forget a device',               'devices:write',  Y,    Y,      N,         N],
] as const satisfies readonly (readonly [string, Scope | null, boolean, boolean, boolean, boolean])[];

type Action = (typeof MATRIX)[number][0];

function allowed(row: (typeof MATRIX)[number], role: Role): boolean {
  return row[2 + ROLES.indexOf(role)] as boolean;
}

describe('roles and organisations', () => {
  let cp: TestControlPlane;
  let api: ApiClient;
  let admin: Credentials;
  let orgA: string;
  let orgB: string;
  let groupA: GroupView;
  let groupB: GroupView;
  /** A spare group of organisation A whose policy and key the matrix changes. */
  let spareGroupA: GroupView;
  /** A device enrolled in organisation A, and the key that enrols more. */
  let deviceA: string;
  let deviceKeyA: string;
  /** Cookies of one operator per role, all in organisation A (the admin's). */
  const roleCookies = new Map<Role, Credentials>();
  let technicianB: Credentials;
  let managerB: Credentials;
  let managerBId: string;
  /** A user-first session of organisation A whose agent is connected and whose code was redeemed. */
  let liveSessionA: string;
  let liveAgent: ScriptedAgent;
  let filesRoot: string;
  /** An operator-first session of organisation A, waiting for its agent. */
  let waitingSessionA: string;
  /** A session of organisation A with a recording. */
  let recordedSessionA: string;
  /** An operator whose name the matrix changes. */
  let targetOperatorId: string;
  let unique = 0;

  /** Registers an agent (user-first), from its own address so the registration throttle never bites. */
  function registerAgent(registrationKey?: string) {
    return registeredAgent(api, { hostname: 'pc', ...(registrationKey ? { registrationKey } : {}) });
  }

  async function createSession(credentials: Credentials, body: Record<string, unknown> = {}) {
    return expectJson<{ session: SessionView; code: string }>(
      await api.post('/api/sessions', credentials, body),
      201,
    );
  }

  /** How each action of the matrix is sent; setup it needs is done as the administrator. */
  const SEND: Record<Action, (who: Credentials) => Promise<Response>> = {
    'list sessions': (who) => api.get('/api/sessions', who),
    'get a session': (who) => api.get(`/api/sessions/${liveSessionA}`, who),
    'wait for a session': (who) => api.get(`/api/sessions/${liveSessionA}/wait?until=ended&timeout=0`, who),
    'create a session': (who) => api.post('/api/sessions', who, {}),
    'renew a code': (who) => api.post(`/api/sessions/${waitingSessionA}/code`, who),
    'extend a code': (who) => api.post(`/api/sessions/${waitingSessionA}/extend`, who),
    'redeem a code': async (who) => {
      const { code } = await registerAgent();
      return api.post('/api/sessions/redeem', who, { code }, { address: freshAddress() });
    },
    'join a session': (who) => api.post(`/api/sessions/${liveSessionA}/join`, who),
    'end a session': async (who) => {
      const { session } = await createSession(admin);
      return api.post(`/api/sessions/${session.id}/end`, who);
    },
    'connect the API to a session': (who) =>
      api.post(`/api/sessions/${liveSessionA}/connect`, who, { capabilities: ['files', 'shell'] }),
    'run a command': (who) => api.post(`/api/sessions/${liveSessionA}/exec`, who, { command: 'true' }),
    'list files': (who) => api.get(`/api/sessions/${liveSessionA}/files`, who),
    'download a file': (who) => api.get(`/api/sessions/${liveSessionA}/files/content?path=readme.txt`, who),
    'upload a file': (who) =>
      api.request(
        'PUT',
        `/api/sessions/${liveSessionA}/files/content?path=up-${++unique}.txt`,
        who,
        'hello',
        {
          headers: { 'content-length': '5' },
        },
      ),
    'change a file': (who) =>
      api.post(`/api/sessions/${liveSessionA}/files/ops`, who, { op: 'mkdir', path: `folder-${++unique}` }),
    'send a chat message': (who) => api.post(`/api/sessions/${liveSessionA}/chat`, who, { text: 'hello' }),
    'read the chat': (who) => api.get(`/api/sessions/${liveSessionA}/chat`, who),
    'get a recording': (who) => api.get(`/api/sessions/${recordedSessionA}/recording`, who),
    'watch a recording': (who) => api.get(`/api/sessions/${recordedSessionA}/recording/content`, who),
    'list groups': (who) => api.get('/api/groups', who),
    'get a group': (who) => api.get(`/api/groups/${groupA.id}`, who),
    'create a group': (who) => api.post('/api/groups', who, { name: `group ${++unique}` }),
    'rename a group': (who) => api.patch(`/api/groups/${spareGroupA.id}`, who, { name: `spare ${++unique}` }),
    'set a group policy': (who) =>
      api.put(`/api/groups/${spareGroupA.id}/policy`, who, { ...DEFAULT_POLICY, codeLifetimeMinutes: 10 }),
    'issue a registration key': (who) => api.post(`/api/groups/${spareGroupA.id}/registration-key`, who),
    'list operators': (who) => api.get('/api/operators', who),
    'create an operator': (who) =>
      api.post('/api/operators', who, {
        username: `made-${++unique}`,
        name: 'Made',
        password: 'a long enough passphrase',
        role: 'technician',
        organisationId: orgA,
      }),
    'update an operator': (who) =>
      api.patch(`/api/operators/${targetOperatorId}`, who, { name: `Renamed ${++unique}` }),
    'list organisations': (who) => api.get('/api/organisations', who),
    'create an organisation': (who) => api.post('/api/organisations', who, { name: `org ${++unique}` }),
    'create a token': (who) => api.post('/api/tokens', who, { name: 'matrix', scopes: ['sessions:read'] }),
    'list tokens': (who) => api.get('/api/tokens', who),
    'revoke a token': async (who) => {
      const { id } = await createToken(api, admin, ['sessions:read'], 'to revoke');
      return api.delete(`/api/tokens/${id}`, who);
    },
    'list audit events': (who) => api.get('/api/audit-events?limit=1', who),
    'list devices': (who) => api.get('/api/devices', who),
    'get a device': (who) => api.get(`/api/devices/${deviceA}`, who),
    // Each forget needs a device of its own: a forgotten one is gone.
    'forget a device': async (who) =>
      api.delete(`/api/devices/${(await enrolDevice(cp, deviceKeyA)).deviceId}`, who),
  };

  /** Asserts one cell of the matrix: a 2xx when allowed, a 403 naming the permission when not. */
  async function assertCell(row: (typeof MATRIX)[number], who: Credentials, expectAllowed: boolean) {
    const [action, needs] = row;
    const response = await SEND[action](who);
    if (expectAllowed) {
      const text = await response.text();
      assert.ok(
        response.status >= 200 && response.status < 300,
        `"${action}" should be allowed: ${response.status} ${text}`,
      );
    } else {
      const problem = await assertProblem(response, 403, 'FORBIDDEN');
      assert.match(problem.detail, new RegExp(`"${needs}"`), `the refusal names the permission "${needs}"`);
    }
  }

  before(async () => {
    const started = await startWithAdmin({ listen: true });
    ({ cp, api, admin } = started);
    roleCookies.set('admin', admin);
    const organisations = await expectJson<Page<{ id: string }>>(
      await api.get('/api/organisations', admin),
      200,
    );
    assert.equal(organisations.items.length, 1);
    orgA = organisations.items[0]!.id;
    orgB = (await expectJson<{ id: string }>(await api.post('/api/organisations', admin, { name: 'B' }), 201))
      .id;

    for (const role of ['manager', 'technician', 'auditor'] as const) {
      const { cookie } = await createOperator(api, admin, {
        username: `${role}-a`,
        role,
        organisationId: orgA,
      });
      roleCookies.set(role, { cookie });
    }
    technicianB = {
      cookie: (
        await createOperator(api, admin, {
          username: 'technician-b',
          role: 'technician',
          organisationId: orgB,
        })
      ).cookie,
    };
    const manager = await createOperator(api, admin, {
      username: 'manager-b',
      role: 'manager',
      organisationId: orgB,
    });
    managerB = { cookie: manager.cookie };
    managerBId = manager.operator.id;
    targetOperatorId = (
      await expectJson<OperatorView>(
        await api.post('/api/operators', admin, {
          username: 'target',
          name: 'Target',
          password: 'a long enough passphrase',
          role: 'technician',
          organisationId: orgA,
        }),
        201,
      )
    ).id;

    const groups = await expectJson<Page<GroupView>>(await api.get('/api/groups', admin), 200);
    groupA = groups.items.find((group) => group.organisationId === orgA && group.isDefault)!;
    groupB = groups.items.find((group) => group.organisationId === orgB && group.isDefault)!;
    assert.ok(groupA && groupB, 'each organisation has a default group');
    spareGroupA = await expectJson<GroupView>(await api.post('/api/groups', admin, { name: 'spare' }), 201);
    // A group of its own for enrolled devices: the matrix issues new keys for the spare group.
    const devicesGroupA = await expectJson<GroupView>(
      await api.post('/api/groups', admin, { name: 'devices' }),
      201,
    );
    deviceKeyA = (
      await expectJson<{ registrationKey: string }>(
        await api.post(`/api/groups/${devicesGroupA.id}/registration-key`, admin),
        200,
      )
    ).registrationKey;
    deviceA = (await enrolDevice(cp, deviceKeyA)).deviceId;

    // A live session in A: an agent on the relay that runs commands and shares a folder, its code
    // redeemed by the administrator.
    filesRoot = mkdtempSync(join(tmpdir(), 'lifeline-roles-'));
    writeFileSync(join(filesRoot, 'readme.txt'), 'hello');
    liveAgent = await ScriptedAgent.start(cp, filesRoot, { consent: { accept: ALL_PERMISSIONS } });
    await expectJson(await api.post('/api/sessions/redeem', admin, { code: liveAgent.code }), 200);
    liveSessionA = liveAgent.sessionId;
    waitingSessionA = (await createSession(admin)).session.id;
    // A recording made by the relay's own recorder, for a session of A.
    recordedSessionA = (await createSession(admin)).session.id;
    const recorder = await cp.services.recordings.open(recordedSessionA, () => undefined);
    recorder.begin();
    recorder.event('session.consent');
    await cp.services.recordings.finish(recordedSessionA, recorder);
  });

  after(async () => {
    await liveAgent.close();
    await cp.stop();
    rmSync(filesRoot, { recursive: true, force: true });
  });

  describe('each role, logged in to the console, through the API', () => {
    for (const role of ROLES) {
      for (const row of MATRIX) {
        const [action] = row;
        const expected = allowed(row, role);
        it(`${role === 'admin' ? 'an' : 'a'} ${role} ${expected ? 'may' : 'is refused (403)'}: ${action}`, async () => {
          await assertCell(row, roleCookies.get(role), expected);
        });
      }
    }
  });

  describe('API tokens of an administrator, limited by scope', () => {
    const tokens = new Map<string, Credentials>();
    /** A token with exactly these scopes, made once. */
    async function tokenWith(scopes: readonly string[]): Promise<Credentials> {
      const key = [...scopes].sort().join(' ');
      // Named by number: every scope but one makes a name longer than a token name may be.
      const name = `matrix token ${tokens.size + 1}`;
      if (!tokens.has(key))
        tokens.set(key, { token: (await createToken(api, admin, [...scopes], name)).token });
      return tokens.get(key);
    }

    for (const row of MATRIX) {
      const [action, needs] = row;
      if (needs === null) {
        it(`any token may: ${action}`, async () => {
          await assertCell(row, await tokenWith(['sessions:read']), true);
          await assertCell(row, await tokenWith(['audit:read']), true);
        });
        continue;
      }
      it(`a token may "${action}" with the "${needs}" scope and is refused without it`, async () => {
        await assertCell(row, await tokenWith([needs]), true);
        const everyOther = SCOPES.filter((scope) => scope !== needs && scope !== 'admin');
        await assertCell(row, await tokenWith(everyOther), false);
      });
      if (needs !== 'admin') {
        it(`a token with the "admin" scope may: ${action}`, async () => {
          await assertCell(row, await tokenWith(['admin']), true);
        });
      }
    }

    it('a token without sessions:write is refused redeem even though its owner is an administrator', async () => {
      const readOnly = await tokenWith(['sessions:read', 'audit:read', 'groups:read', 'operators:read']);
      const { code, sessionId } = await registerAgent();
      const problem = await assertProblem(
        await api.post('/api/sessions/redeem', readOnly, { code }, { address: freshAddress() }),
        403,
        'FORBIDDEN',
      );
      assert.match(problem.detail, /"sessions:write"/);
      // The refusal did not use the code up: the owner's own login still redeems it.
      const redeemed = await expectJson<{ session: SessionView }>(
        await api.post('/api/sessions/redeem', admin, { code }, { address: freshAddress() }),
        200,
      );
      assert.equal(redeemed.session.id, sessionId);
    });

    it("a token is capped by its owner's role: when the owner stops being an administrator, so does the token", async () => {
      const second = await createOperator(api, admin, {
        username: 'second-admin',
        role: 'admin',
        organisationId: orgA,
      });
      const token: Credentials = {
        token: (await createToken(api, { cookie: second.cookie }, ['admin'])).token,
      };
      await expectJson(await api.get('/api/operators', token), 200);
      await expectJson(
        await api.patch(`/api/operators/${second.operator.id}`, admin, { role: 'technician' }),
        200,
      );
      await assertProblem(await api.get('/api/operators', token), 403, 'FORBIDDEN');
      await assertProblem(await api.get('/api/audit-events', token), 403, 'FORBIDDEN');
      // What a technician may do, the token still may.
      await expectJson(await api.get('/api/sessions', token), 200);
    });

    it('GET /api/auth/me reports what a token may do, which is what it is then allowed', async () => {
      const me = await expectJson<{ via: string; scopes: string[] }>(
        await api.get('/api/auth/me', await tokenWith(['admin'])),
        200,
      );
      assert.equal(me.via, 'api-token');
      // The admin scope stands for every scope, and requests are judged so (see the matrix above).
      assert.deepEqual([...me.scopes].sort(), [...SCOPES].sort());
      const limited = await expectJson<{ scopes: string[] }>(
        await api.get('/api/auth/me', await tokenWith(['sessions:read'])),
        200,
      );
      assert.deepEqual(limited.scopes, ['sessions:read']);
    });
  });

  describe('organisation isolation', () => {
    it("a technician of B neither lists nor finds organisation A's devices (404 NOT_FOUND)", async () => {
      const page = await expectJson<Page<{ id: string }>>(await api.get('/api/devices', technicianB), 200);
      assert.ok(!page.items.some((device) => device.id === deviceA));
      await assertProblem(await api.get(`/api/devices/${deviceA}`, technicianB), 404, 'NOT_FOUND');
    });

    it('a technician of B neither sees nor finds a session of A (404 SESSION_NOT_FOUND)', async () => {
      await assertProblem(
        await api.get(`/api/sessions/${liveSessionA}`, technicianB),
        404,
        'SESSION_NOT_FOUND',
      );
      await assertProblem(
        await api.get(`/api/sessions/${liveSessionA}/wait?timeout=0`, technicianB),
        404,
        'SESSION_NOT_FOUND',
      );
      const listed = await expectJson<Page<SessionView>>(
        await api.get('/api/sessions?limit=200', technicianB),
        200,
      );
      assert.ok(
        listed.items.every((session) => session.organisationId === orgB),
        'only sessions of B are listed',
      );
      // The same session is there for the administrator, so the refusal is about the organisation.
      await expectJson(await api.get(`/api/sessions/${liveSessionA}`, admin), 200);
    });

    it("a technician of B can neither see nor watch the recording of A's session (404 SESSION_NOT_FOUND)", async () => {
      await assertProblem(
        await api.get(`/api/sessions/${recordedSessionA}/recording`, technicianB),
        404,
        'SESSION_NOT_FOUND',
      );
      await assertProblem(
        await api.get(`/api/sessions/${recordedSessionA}/recording/content`, technicianB),
        404,
        'SESSION_NOT_FOUND',
      );
      await expectJson(await api.get(`/api/sessions/${recordedSessionA}/recording`, admin), 200);
    });

    it('a technician of B cannot join or end a session of A (404), and it goes on', async () => {
      await assertProblem(
        await api.post(`/api/sessions/${liveSessionA}/join`, technicianB),
        404,
        'SESSION_NOT_FOUND',
      );
      await assertProblem(
        await api.post(`/api/sessions/${liveSessionA}/end`, technicianB),
        404,
        'SESSION_NOT_FOUND',
      );
      const session = await expectJson<SessionView>(
        await api.get(`/api/sessions/${liveSessionA}`, admin),
        200,
      );
      assert.notEqual(session.status, 'ended');
    });

    it("a technician of B cannot redeem the code of A's device (404 CODE_INVALID), and the code still works in A", async () => {
      const { code, sessionId } = await registerAgent();
      await assertProblem(
        await api.post('/api/sessions/redeem', technicianB, { code }, { address: freshAddress() }),
        404,
        'CODE_INVALID',
      );
      const session = await expectJson<SessionView>(await api.get(`/api/sessions/${sessionId}`, admin), 200);
      assert.equal(session.operatorId, null, 'the refused redemption left no operator on the session');
      const redeemed = await expectJson<{ session: SessionView }>(
        await api.post(
          '/api/sessions/redeem',
          roleCookies.get('technician'),
          { code },
          { address: freshAddress() },
        ),
        200,
      );
      assert.equal(redeemed.session.id, sessionId);
    });

    it("a technician of B sees only B's groups, and A's group is 404", async () => {
      const groups = await expectJson<Page<GroupView>>(await api.get('/api/groups', technicianB), 200);
      assert.deepEqual(
        groups.items.map((group) => group.id),
        [groupB.id],
      );
      await assertProblem(await api.get(`/api/groups/${groupA.id}`, technicianB), 404, 'NOT_FOUND');
    });

    it("a manager of B cannot change A's groups or create a group in A (404), but manages B's", async () => {
      await assertProblem(
        await api.put(`/api/groups/${groupA.id}/policy`, managerB, {
          ...DEFAULT_POLICY,
          elevatedTools: true,
        }),
        404,
        'NOT_FOUND',
      );
      await assertProblem(
        await api.post(`/api/groups/${groupA.id}/registration-key`, managerB),
        404,
        'NOT_FOUND',
      );
      await assertProblem(
        await api.patch(`/api/groups/${groupA.id}`, managerB, { name: 'mine' }),
        404,
        'NOT_FOUND',
      );
      await assertProblem(
        await api.post('/api/groups', managerB, { name: 'in A', organisationId: orgA }),
        404,
        'NOT_FOUND',
      );
      const policyA = await expectJson<GroupView>(await api.get(`/api/groups/${groupA.id}`, admin), 200);
      assert.equal(policyA.policy.elevatedTools, DEFAULT_POLICY.elevatedTools, "A's policy is unchanged");
      const created = await expectJson<GroupView>(
        await api.post('/api/groups', managerB, { name: 'B lab' }),
        201,
      );
      assert.equal(created.organisationId, orgB, 'a group a manager creates lands in their organisation');
    });

    it('a technician of B creates sessions in B, and none in a group of A (404)', async () => {
      const { session } = await createSession(technicianB);
      assert.equal(session.organisationId, orgB);
      assert.equal(session.deviceGroupId, groupB.id);
      await assertProblem(
        await api.post('/api/sessions', technicianB, { deviceGroupId: groupA.id }),
        404,
        'NOT_FOUND',
      );
    });

    it('a manager of B lists only the operators of B; an administrator lists everyone', async () => {
      const ofB = await expectJson<Page<OperatorView>>(await api.get('/api/operators', managerB), 200);
      assert.deepEqual(ofB.items.map((operator) => operator.username).sort(), ['manager-b', 'technician-b']);
      const all = await expectJson<Page<OperatorView>>(await api.get('/api/operators', admin), 200);
      assert.ok(all.items.some((operator) => operator.organisationId === orgA));
      assert.ok(all.items.some((operator) => operator.id === managerBId));
    });

    it('a non-administrator lists only their own organisation; an administrator lists all', async () => {
      const own = await expectJson<Page<{ id: string }>>(
        await api.get('/api/organisations', technicianB),
        200,
      );
      assert.deepEqual(
        own.items.map((organisation) => organisation.id),
        [orgB],
      );
      const all = await expectJson<Page<{ id: string }>>(await api.get('/api/organisations', admin), 200);
      const ids = all.items.map((organisation) => organisation.id);
      assert.ok(ids.includes(orgA) && ids.includes(orgB));
    });

    it("a manager of B reads B's audit events and none about A's sessions or operators", async () => {
      const { session } = await createSession(managerB);
      const events = await expectJson<Page<AuditEvent>>(
        await api.get('/api/audit-events?limit=500', managerB),
        200,
      );
      assert.ok(
        events.items.some((event) => event.action === 'session.create' && event.sessionId === session.id),
        "B's own session appears",
      );
      const all = await expectJson<Page<AuditEvent>>(
        await api.get('/api/audit-events?limit=500', admin),
        200,
      );
      const visible = new Set(events.items.map((event) => event.id));
      // Events belong to the organisation they concern, whoever acted: an administrator's actions on B
      // are B's, and A's sessions and operators stay A's.
      const aboutA = all.items.filter(
        (event) => event.organisationId === orgA || event.sessionId === liveSessionA,
      );
      assert.ok(aboutA.length > 0, "the administrator sees A's events");
      for (const event of events.items)
        assert.equal(event.organisationId, orgB, `B sees ${event.action} of another organisation`);
      for (const event of aboutA) assert.ok(!visible.has(event.id), `B sees A's event ${event.action}`);
    });
  });

  describe('auditors', () => {
    it('an auditor reads sessions and audit events but cannot redeem, join or end (403 FORBIDDEN)', async () => {
      const auditor = roleCookies.get('auditor');
      await expectJson(await api.get('/api/sessions', auditor), 200);
      await expectJson(await api.get(`/api/sessions/${liveSessionA}`, auditor), 200);
      await expectJson(await api.get('/api/audit-events', auditor), 200);
      const { code } = await registerAgent();
      await assertProblem(
        await api.post('/api/sessions/redeem', auditor, { code }, { address: freshAddress() }),
        403,
        'FORBIDDEN',
      );
      await assertProblem(await api.post(`/api/sessions/${liveSessionA}/join`, auditor), 403, 'FORBIDDEN');
      await assertProblem(await api.post(`/api/sessions/${liveSessionA}/end`, auditor), 403, 'FORBIDDEN');
      const session = await expectJson<SessionView>(
        await api.get(`/api/sessions/${liveSessionA}`, admin),
        200,
      );
      assert.notEqual(session.status, 'ended');
    });
  });
});

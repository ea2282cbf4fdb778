import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { generateDeviceKey, signDeviceToken } from '../../agent/device/device-key.ts';
import { CloseCode, type DeviceReport, deviceAudience, TOKEN_KINDS } from '../../protocol/index.ts';
import {
  apiClient,
  assertProblem,
  type Credentials,
  createOperator,
  createToken,
  expectJson,
  readAllPages,
  whoAmI,
} from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { waitFor } from '../support/processes.ts';
import { type DeviceView, deviceHello, devicesApi, enrolDevice, TEST_REPORT } from './device-support.ts';

describe('devices: enrolment, identity and the devices API', () => {
  let cp: TestControlPlane;
  let admin: Credentials;
  const api = () => apiClient(cp);
  const devices = () => devicesApi(cp, admin);

  const enrol = (key: string, report: Partial<DeviceReport> = {}) => enrolDevice(cp, key, report);

  before(async () => {
    cp = await startControlPlane({ listen: true, env: { LIFELINE_PING_SECONDS: '1' } });
    admin = { cookie: await loginCookie(cp.app) };
  });

  after(async () => {
    await cp?.stop();
  });

  describe('enrolment', () => {
    it('a key that was never issued is refused with FORBIDDEN and enrols nothing', async () => {
      const pair = await generateDeviceKey();
      const response = await api().post('/api/agent/enrol', undefined, {
        registrationKey: 'llr_guessed',
        publicKey: pair.publicJwk,
        report: TEST_REPORT,
      });
      await assertProblem(response, 403, 'FORBIDDEN');
      assert.equal((await devices().audit('device.enrol-refused')).length, 1);
    });

    it('a rotated registration key is refused; the new one enrols', async () => {
      const group = await devices().createGroup('Rotation');
      const old = await devices().issueKey(group.id);
      const current = await devices().issueKey(group.id);
      const pair = await generateDeviceKey();
      const response = await api().post('/api/agent/enrol', undefined, {
        registrationKey: old,
        publicKey: pair.publicJwk,
        report: TEST_REPORT,
      });
      await assertProblem(response, 403, 'FORBIDDEN');
      const device = await enrol(current);
      assert.equal(device.groupId, group.id);
    });

    it('a private key sent by mistake is refused (VALIDATION_FAILED) and not stored', async () => {
      const group = await devices().createGroup('Careless');
      const key = await devices().issueKey(group.id);
      const pair = await generateDeviceKey();
      const response = await api().post('/api/agent/enrol', undefined, {
        registrationKey: key,
        publicKey: pair.privateJwk,
        report: TEST_REPORT,
      });
      await assertProblem(response, 400, 'VALIDATION_FAILED');
      assert.equal((await devices().list('', { group: group.id })).items.length, 0);
    });

    it('device-reported text is stored inert and shown apart, as reported by the device', async () => {
      const group = await devices().createGroup('Tampered');
      const { deviceId } = await enrol(await devices().issueKey(group.id), {
        hostname: 'desk\u202Egnp.exe',
        consoleUser: 'eve\u001b[31m',
      });
      const device = await devices().get(deviceId);
      assert.equal(device.reported.hostname, 'desk\ufffdgnp.exe');
      assert.equal(device.reported.consoleUser, 'eve\ufffd[31m');
    });
  });

  describe('identity tokens on the device hub', () => {
    let device: Awaited<ReturnType<typeof enrol>>;
    before(async () => {
      const group = await devices().createGroup('Tokens');
      device = await enrol(await devices().issueKey(group.id));
    });

    /** A token like the device's, with one thing changed. */
    async function crafted(change: { aud?: string; sub?: string; lifetimeS?: number; jti?: string }) {
      const { importJWK } = await import('jose');
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: 'EdDSA', typ: TOKEN_KINDS.deviceIdentity.typ })
        .setIssuer(change.sub ?? device.deviceId)
        .setSubject(change.sub ?? device.deviceId)
        .setAudience(change.aud ?? deviceAudience(device.deviceId))
        .setIssuedAt(now)
        .setExpirationTime(now + (change.lifetimeS ?? 60))
        .setJti(change.jti ?? randomUUID())
        .sign(await importJWK(device.privateJwk, 'EdDSA'));
    }

    it('a token the device signed is welcomed, and a hand-crafted one with no change too', async () => {
      for (const token of [await signDeviceToken(device.deviceId, device.privateJwk), await crafted({})]) {
        const answer = await deviceHello(cp, token);
        assert.equal(answer.code, 'welcome');
        answer.socket?.close();
      }
    });

    it("a token for another device's audience is refused with TOKEN_INVALID", async () => {
      const answer = await deviceHello(cp, await crafted({ aud: deviceAudience(randomUUID()) }));
      assert.equal(answer.code, 'TOKEN_INVALID');
      assert.equal(answer.close, CloseCode.policy);
    });

    it("a token signed with another key under this device's id is refused", async () => {
      const other = await generateDeviceKey();
      const answer = await deviceHello(cp, await signDeviceToken(device.deviceId, other.privateJwk));
      assert.equal(answer.code, 'TOKEN_INVALID');
    });

    it('a token longer-lived than a minute is refused', async () => {
      assert.equal((await deviceHello(cp, await crafted({ lifetimeS: 3600 }))).code, 'TOKEN_INVALID');
    });

    it('a token is good once', async () => {
      const token = await crafted({ jti: randomUUID() });
      const first = await deviceHello(cp, token);
      assert.equal(first.code, 'welcome');
      first.socket?.close();
      assert.equal((await deviceHello(cp, token)).code, 'TOKEN_INVALID');
    });

    it('uninstall without a valid device token is refused with UNAUTHENTICATED and removes nothing', async () => {
      const other = await generateDeviceKey();
      const forged = await signDeviceToken(device.deviceId, other.privateJwk);
      await assertProblem(
        await api().post('/api/agent/uninstall', { token: forged }),
        401,
        'UNAUTHENTICATED',
      );
      await assertProblem(await api().post('/api/agent/uninstall', undefined), 401, 'UNAUTHENTICATED');
      assert.notEqual((await devices().get(device.deviceId)).status, 'removed');
    });
  });

  describe('the list', () => {
    let groupA: string;
    let groupB: string;
    before(async () => {
      groupA = (await devices().createGroup('Tills')).id;
      groupB = (await devices().createGroup('Servers')).id;
      const keyA = await devices().issueKey(groupA);
      const keyB = await devices().issueKey(groupB);
      for (const name of ['till-01', 'till-02', 'till-03']) await enrol(keyA, { hostname: name });
      await enrol(keyB, { hostname: 'db-01' });
      await enrol(keyB, { hostname: 'till_backup%' });
    });

    it('searches by part of the host name, case-insensitively, % and _ taken literally', async () => {
      const names = (page: { items: DeviceView[] }) => page.items.map((d) => d.reported.hostname).sort();
      assert.deepEqual(names(await devices().list('TILL-0')), ['till-01', 'till-02', 'till-03']);
      assert.deepEqual(names(await devices().list('_backup%')), ['till_backup%']);
      assert.deepEqual(names(await devices().list('l_0')), []);
    });

    it('filters by group', async () => {
      const page = await devices().list('', { group: groupB });
      assert.deepEqual(page.items.map((d) => d.reported.hostname).sort(), ['db-01', 'till_backup%']);
    });

    it('pages like every list: limit and nextCursor, each device once', async () => {
      const first = await devices().list('', { group: groupA, limit: '2' });
      assert.equal(first.items.length, 2);
      assert.ok(first.nextCursor);
      const all = await readAllPages<DeviceView>(api(), `/api/devices?group=${groupA}&limit=2`, admin);
      assert.equal(all.pages, 2);
      assert.deepEqual(all.items.map((d) => d.reported.hostname).sort(), ['till-01', 'till-02', 'till-03']);
    });

    it('filters by status: a connected device is online, the others offline', async () => {
      const group = await devices().createGroup('Status');
      const key = await devices().issueKey(group.id);
      const live = await enrol(key, { hostname: 'live-1' });
      await enrol(key, { hostname: 'idle-1' });
      const hello = await deviceHello(cp, await signDeviceToken(live.deviceId, live.privateJwk), {
        ...TEST_REPORT,
        hostname: 'live-1',
      });
      assert.equal(hello.code, 'welcome');
      const online = await devices().list('', { group: group.id, status: 'online' });
      assert.deepEqual(
        online.items.map((d) => d.reported.hostname),
        ['live-1'],
      );
      const offline = await devices().list('', { group: group.id, status: 'offline' });
      assert.deepEqual(
        offline.items.map((d) => d.reported.hostname),
        ['idle-1'],
      );
      hello.socket?.close();
      await waitFor(
        'the device offline',
        async () => (await devices().get(live.deviceId)).status === 'offline',
      );
      assert.ok(
        (await devices().get(live.deviceId)).lastSeenAt,
        'an offline device shows when it was last seen',
      );
    });

    it('a bad status is refused with VALIDATION_FAILED', async () => {
      await assertProblem(await api().get('/api/devices?status=asleep', admin), 400, 'VALIDATION_FAILED');
    });
  });

  describe('forgetting', () => {
    it("forgetting closes the device's link, refuses its identity afterwards, and is audited", async () => {
      const group = await devices().createGroup('Forget');
      const device = await enrol(await devices().issueKey(group.id));
      const hello = await deviceHello(cp, await signDeviceToken(device.deviceId, device.privateJwk));
      assert.equal(hello.code, 'welcome');
      const closed = new Promise<number>((resolve) => hello.socket!.on('close', (code) => resolve(code)));
      await devices().forget(device.deviceId);
      assert.equal(await closed, CloseCode.policy);
      const again = await deviceHello(cp, await signDeviceToken(device.deviceId, device.privateJwk));
      assert.equal(again.code, 'TOKEN_INVALID');
      const shown = await devices().get(device.deviceId);
      assert.equal(shown.status, 'removed');
      assert.equal(shown.removal, 'forgotten');
      assert.ok(
        !(await devices().list('')).items.some((d) => d.id === device.deviceId),
        'hidden from the list',
      );
      const [event] = await devices().audit('device.forget');
      assert.equal(event?.details?.['deviceId'], device.deviceId);
      await assertProblem(await api().delete(`/api/devices/${device.deviceId}`, admin), 404, 'NOT_FOUND');
    });
  });

  describe('roles and scopes', () => {
    let deviceId: string;
    before(async () => {
      const group = await devices().createGroup('Roles');
      ({ deviceId } = await enrol(await devices().issueKey(group.id)));
    });

    it('a technician and an auditor list devices but may not forget one (403)', async () => {
      const me = await whoAmI(api(), admin);
      for (const role of ['technician', 'auditor']) {
        const { cookie } = await createOperator(api(), admin, {
          username: `devices-${role}`,
          role,
          organisationId: me.organisationId,
        });
        await expectJson(await api().get('/api/devices', { cookie }), 200);
        await expectJson(await api().get(`/api/devices/${deviceId}`, { cookie }), 200);
        await assertProblem(await api().delete(`/api/devices/${deviceId}`, { cookie }), 403, 'FORBIDDEN');
      }
    });

    it('an API token needs devices:read to list and devices:write to forget', async () => {
      const reader = { token: (await createToken(api(), admin, ['devices:read'])).token };
      const other = { token: (await createToken(api(), admin, ['groups:read'])).token };
      await expectJson(await api().get('/api/devices', reader), 200);
      await assertProblem(await api().get('/api/devices', other), 403, 'FORBIDDEN');
      await assertProblem(await api().delete(`/api/devices/${deviceId}`, reader), 403, 'FORBIDDEN');
      const writer = { token: (await createToken(api(), admin, ['devices:write'])).token };
      const response = await api().delete(`/api/devices/${deviceId}`, writer);
      assert.equal(response.status, 204);
    });

    it('without a login the devices API answers 401', async () => {
      await assertProblem(await api().get('/api/devices', undefined), 401, 'UNAUTHENTICATED');
    });
  });
});

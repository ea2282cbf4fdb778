import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CryptoKey, generateKeyPair, SignJWT } from 'jose';
import { installLayout } from '../../agent/device/layout.ts';
import { openDeviceSession } from '../../control-plane/devices/device-session.ts';
import { sendOrder } from '../../control-plane/devices/send-order.ts';
import {
  DEFAULT_POLICY,
  type DeviceOrder,
  deviceOrderAudience,
  type OrderOperator,
  type OrderResult,
  type Policy,
  TOKEN_KINDS,
} from '../../protocol/index.ts';
import { apiClient, type Credentials, expectJson } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { childrenOf, isAlive, type Spawned, spawnCollecting, waitFor } from '../support/processes.ts';
import { agentCommand, devicesApi, startAsSystemd } from './device-support.ts';

/**
 * A group policy that allows background access for administrators, without telling the user, and
 * elevation (so a background shell runs as the service's user, root).
 */
const BACKGROUND_POLICY: Policy = {
  ...DEFAULT_POLICY,
  elevatedTools: true,
  backgroundAccess: { allowed: true, roles: ['admin'], notifyUser: false },
};

interface SessionView {
  id: string;
  status: string;
  agentConnected: boolean;
}

describe('orders to a resident device', { timeout: 300_000 }, () => {
  let cp: TestControlPlane;
  let admin: Credentials;
  let operator: OrderOperator;
  let root: string;
  let service: Spawned;
  let deviceId: string;
  /** Another device of the same group, enrolled but not running. */
  let otherDeviceId: string;

  /** Signs an order as the test likes: any key, any audience, any times. */
  async function craftOrder(input: {
    key?: { privateKey: CryptoKey; kid: string };
    audience?: string;
    subject?: string;
    issuedAt?: number;
    expires?: number;
    jti?: string;
    ord?: unknown;
    pol?: unknown;
  }): Promise<{ id: string; token: string }> {
    const key = input.key ?? cp.services.keys.current;
    const now = Math.floor(Date.now() / 1000);
    const id = input.jti ?? randomUUID();
    const token = await new SignJWT({
      ord: input.ord ?? { kind: 'join-session', ...(await sessionOrder()) },
      pol: input.pol ?? BACKGROUND_POLICY,
    })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: TOKEN_KINDS.deviceOrder.typ })
      .setIssuer(cp.url)
      .setAudience(input.audience ?? deviceOrderAudience(deviceId))
      .setSubject(input.subject ?? deviceId)
      .setJti(id)
      .setIssuedAt(input.issuedAt ?? now)
      .setExpirationTime(input.expires ?? now + 30)
      .sign(key.privateKey);
    return { id, token };
  }

  /** A join-session order's fields for a session that exists but that nobody should join. */
  async function sessionOrder(): Promise<Omit<Extract<DeviceOrder, { kind: 'join-session' }>, 'kind'>> {
    return {
      access: 'background',
      sessionId: randomUUID(),
      relay: { url: `${cp.url.replace(/^http/, 'ws')}/ws`, token: 'not-a-relay-token' },
      policyToken: 'not-a-policy-token',
      operator,
    };
  }

  /** Sends a token through the hub exactly as it is, as a compromised hub could. */
  function deliver(order: { id: string; token: string }): Promise<OrderResult> {
    return cp.services.devices.hub.order(deviceId, order, 20_000);
  }

  const session = async (id: string) =>
    expectJson<SessionView>(await apiClient(cp).get(`/api/sessions/${id}`, admin), 200);

  before(async () => {
    cp = await startControlPlane({ listen: true });
    admin = { cookie: await loginCookie(cp.app) };
    const me = await expectJson<{ operator: { id: string; name: string } }>(
      await apiClient(cp).get('/api/auth/me', admin),
      200,
    );
    operator = { id: me.operator.id, name: me.operator.name, role: 'admin' };
    const api = devicesApi(cp, admin);
    const group = await api.createGroup('Servers');
    await expectJson(
      await apiClient(cp).put(`/api/groups/${group.id}/policy`, admin, BACKGROUND_POLICY),
      200,
    );
    const key = await api.issueKey(group.id);
    root = mkdtempSync(join(tmpdir(), 'lifeline-root-'));
    const installed = await agentCommand(['install', '--key', key, '--server', cp.url, '--root', root]);
    assert.equal(installed.code, 0, installed.output);
    deviceId = JSON.parse(readFileSync(installLayout(root).credentials, 'utf8')).deviceId;
    const other = join(root, 'other');
    const second = await agentCommand(['install', '--key', key, '--server', cp.url, '--root', other]);
    assert.equal(second.code, 0, second.output);
    otherDeviceId = JSON.parse(readFileSync(installLayout(other).credentials, 'utf8')).deviceId;
    service = startAsSystemd(installLayout(root).unitFile);
    await waitFor('the device online', async () => (await api.get(deviceId)).status === 'online');
  });

  after(async () => {
    await service?.kill();
    await cp?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('enrolment stores the control plane public keys with the credentials', () => {
    const saved = JSON.parse(readFileSync(installLayout(root).credentials, 'utf8'));
    assert.deepEqual(
      saved.serverKeys.keys.map((k: { kid: string }) => k.kid),
      [cp.services.keys.current.kid],
    );
  });

  it('a valid join-session order starts a session host that joins the session as its device', async () => {
    const { session: opened, result } = await openDeviceSession(
      cp.services,
      (await cp.services.devices.store.get(deviceId))!,
      operator,
      'background',
    );
    assert.ok(result.ok, JSON.stringify(result));
    const pid = result.detail?.['pid'];
    assert.equal(typeof pid, 'number');
    assert.ok(typeof pid === 'number');
    assert.ok(
      childrenOf(service.child.pid!).some((child) => child.pid === pid),
      'the session host is a child of the service',
    );
    const joined = await waitFor('the session host connected', async () => {
      const view = await session(opened.id);
      return view.agentConnected ? view : undefined;
    });
    assert.equal(joined.status, 'waiting');
    // The relay token travels in the environment, never on the command line.
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    assert.doesNotMatch(argv, /eyJ/);
    assert.match(argv, /session-host/);

    await expectJson(await apiClient(cp).post(`/api/sessions/${opened.id}/end`, admin), 200);
    await waitFor('the session host gone', () => !isAlive(pid));
  });

  it('an order delivered a second time is refused with ORDER_REPLAYED', async () => {
    // A kind the device refuses after the replay check: nothing starts, the id is spent all the same.
    const order = await craftOrder({ ord: { kind: 'reboot-now' } });
    const first = await deliver(order);
    assert.equal(first.ok, false);
    assert.equal((first as { code: string }).code, 'NOT_SUPPORTED');
    const again = await deliver(order);
    assert.deepEqual(again, {
      ok: false,
      code: 'ORDER_REPLAYED',
      message: 'This order was received before.',
    });
  });

  it('an order signed with another key is refused with TOKEN_INVALID', async () => {
    const forger = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    // The right key id, the wrong key: as a compromised hub would try.
    const result = await deliver(
      await craftOrder({ key: { privateKey: forger.privateKey, kid: cp.services.keys.current.kid } }),
    );
    assert.equal(result.ok, false);
    assert.equal((result as { code: string }).code, 'TOKEN_INVALID');
  });

  it('an expired order is refused with ORDER_EXPIRED', async () => {
    const now = Math.floor(Date.now() / 1000);
    const result = await deliver(await craftOrder({ issuedAt: now - 150, expires: now - 120 }));
    assert.deepEqual(result, { ok: false, code: 'ORDER_EXPIRED', message: 'The order has expired.' });
  });

  it('an order that lives longer than a minute is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const result = await deliver(await craftOrder({ issuedAt: now, expires: now + 3600 }));
    assert.equal(result.ok, false);
    assert.equal((result as { code: string }).code, 'TOKEN_INVALID');
    assert.match((result as { message: string }).message, /60 s at most/);
  });

  it('an order for another device is refused with ORDER_WRONG_DEVICE', async () => {
    const result = await deliver(
      await craftOrder({ audience: deviceOrderAudience(otherDeviceId), subject: otherDeviceId }),
    );
    assert.deepEqual(result, {
      ok: false,
      code: 'ORDER_WRONG_DEVICE',
      message: 'The order is for another device.',
    });
  });

  it('an order the policy inside does not allow is refused with POLICY_FORBIDS', async () => {
    const result = await deliver(
      await craftOrder({
        pol: {
          ...BACKGROUND_POLICY,
          backgroundAccess: { allowed: false, roles: ['admin'], notifyUser: false },
        },
      }),
    );
    assert.equal(result.ok, false);
    assert.equal((result as { code: string }).code, 'POLICY_FORBIDS');
    const technician = await deliver(
      await craftOrder({
        ord: {
          kind: 'join-session',
          ...(await sessionOrder()),
          operator: { ...operator, role: 'technician' },
        },
      }),
    );
    assert.equal((technician as { code: string }).code, 'POLICY_FORBIDS');
    assert.match((technician as { message: string }).message, /technician/);
  });

  it('an end-process order the policy inside does not allow (elevated tools off, or a technician) is refused with POLICY_FORBIDS and ends nothing', async () => {
    const sleeper = spawnCollecting('sleep', ['1000'], { PATH: process.env['PATH'] });
    try {
      const pid = sleeper.child.pid!;
      const off = await deliver(
        await craftOrder({
          ord: { kind: 'end-process', operator, pid },
          pol: { ...BACKGROUND_POLICY, elevatedTools: false },
        }),
      );
      assert.equal((off as { code: string }).code, 'POLICY_FORBIDS');
      const technician = await deliver(
        await craftOrder({
          ord: { kind: 'end-process', operator: { ...operator, role: 'technician' }, pid },
          pol: { ...BACKGROUND_POLICY, elevatedTools: true },
        }),
      );
      assert.equal((technician as { code: string }).code, 'POLICY_FORBIDS');
      assert.match((technician as { message: string }).message, /technician/);
      assert.ok(isAlive(pid), 'the process still runs');
    } finally {
      await sleeper.kill();
    }
  });

  it('an order of a kind the agent does not know is refused with NOT_SUPPORTED', async () => {
    const result = await deliver(await craftOrder({ ord: { kind: 'reboot-now' } }));
    assert.equal(result.ok, false);
    assert.equal((result as { code: string }).code, 'NOT_SUPPORTED');
  });

  it('sendOrder refuses what the group policy forbids without sending it', async () => {
    const result = await sendOrder(cp.services, deviceId, {
      kind: 'join-session',
      ...(await sessionOrder()),
      operator: { ...operator, role: 'auditor' },
    });
    assert.equal(result.ok, false);
    assert.equal((result as { code: string }).code, 'POLICY_FORBIDS');
  });

  it('sendOrder to a device that is not connected resolves with DEVICE_OFFLINE', async () => {
    const result = await sendOrder(cp.services, otherDeviceId, {
      kind: 'join-session',
      ...(await sessionOrder()),
    });
    assert.deepEqual(result, { ok: false, code: 'DEVICE_OFFLINE', message: 'The device is offline.' });
  });
});

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UNATTENDED_LINGER_ENV } from '../../agent/device/unattended-access.ts';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { assertProblem, type Credentials, createOperator, expectJson, freshAddress } from '../support/api.ts';
import { childrenOf, isAlive, waitFor } from '../support/processes.ts';
import { pointerLocation } from '../support/xvfb.ts';
import { devicesApi, joinDeviceSession, useRunningDevice } from './device-support.ts';

/** Unattended access for administrators, the user not told (nobody sits at a test display). */
const UNATTENDED_POLICY: Policy = {
  ...DEFAULT_POLICY,
  unattended: { allowed: true, roles: ['admin'], notifyUser: false },
  // Nobody is logged in at the test display (`who` names nobody): the host runs as the service's user
  // (root), which takes the policy's elevation.
  elevatedTools: true,
};
/** How long access outlives its last session in these tests, in milliseconds. */
const LINGER_MS = 10_000;

describe('unattended access to a resident device', { timeout: 300_000 }, () => {
  const at = useRunningDevice({
    group: 'Unattended',
    policy: UNATTENDED_POLICY,
    env: { [UNATTENDED_LINGER_ENV]: String(LINGER_MS) },
    // The DISPLAY an administrator's drop-in adds where no `who` names the graphical seat.
    display: true,
  });

  const start = (credentials: Credentials = at.admin) =>
    at.api.post(`/api/devices/${at.device.deviceId}/unattended`, credentials);
  const connect = (password: string, credentials: Credentials = at.admin) =>
    at.api.post(`/api/devices/${at.device.deviceId}/unattended/sessions`, credentials, { password });
  /** The folders grants unpacked their session host into that still exist. */
  const unpacked = () => {
    const folder = join(at.device.layout.workDir, 'unattended');
    return existsSync(folder) ? readdirSync(folder) : [];
  };
  const hostsOf = () => childrenOf(at.device.service.child.pid!);

  it('start gives a fresh dynamic password; the operator connects with it, sees the screen and moves the pointer; after the linger the host is gone and the password refused', async () => {
    const first = await expectJson<{ password: string }>(await start(), 201);
    const { password } = await expectJson<{ password: string }>(await start(), 201);
    assert.ok(password.length >= 12, `a password of ${password.length} characters`);
    assert.notEqual(password, first.password, 'a new password every start');
    assert.equal(unpacked().length, 1, 'the earlier grant was removed when the new one started');
    // The first password died with its grant.
    await assertProblem(await connect(first.password), 403, 'PASSWORD_WRONG');

    const { sessionId } = await expectJson<{ sessionId: string }>(await connect(password), 201);
    const host = await waitFor('the session host', () =>
      hostsOf().find((child) => child.command !== 'ffmpeg'),
    );
    const operator = await joinDeviceSession(at.cp, at.admin, sessionId);
    try {
      // No prompt: the order granted the screen and input.
      const consent = await operator.next('consent', 0, 20_000);
      assert.equal(consent.accepted, true);
      assert.equal(consent.permissions.view, true);
      assert.equal(consent.permissions.control, true);
      await operator.until(() => operator.videos().length > 0, 'a picture of the screen', 20_000);
      operator.send({ type: 'input', event: { kind: 'move', x: 0.75, y: 0.5 } });
      const pointer = await waitFor('the real pointer to move', async () => {
        const p = await pointerLocation(at.xvfb.display);
        return Math.abs(p.x - 600) <= 4 && Math.abs(p.y - 300) <= 4 ? p : undefined;
      });
      assert.ok(Math.abs(pointer.x - 600) <= 4, JSON.stringify(pointer));
      operator.send({ type: 'end', reason: 'operator-ended' });
      await operator.waitClosed(10_000);
    } finally {
      await operator.close();
    }
    await waitFor('the session host to exit', () => !isAlive(host.pid));
    // Within the linger the grant and its unpacked host remain.
    assert.equal(unpacked().length, 1);
    await waitFor('the grant to expire', () => unpacked().length === 0, LINGER_MS + 15_000);
    assert.deepEqual(hostsOf(), [], 'no session host runs');
    await assertProblem(await connect(password), 410, 'UNATTENDED_INACTIVE');
    // Once the device said the grant is over, the password is simply wrong.
    await assertProblem(await connect(password), 403, 'PASSWORD_WRONG');
    const audit = await devicesApi(at.cp, at.admin).audit('device.unattended-connect');
    assert.equal(audit.length, 1);
  });

  it('wrong passwords are refused, audited, and throttled per device', async () => {
    const { password } = await expectJson<{ password: string }>(await start(), 201);
    await assertProblem(await connect('wrong-password-0'), 403, 'PASSWORD_WRONG');
    // From other addresses too: the throttle counts per device, not per guesser.
    const statuses: number[] = [];
    for (let i = 1; i <= 6 && statuses.at(-1) !== 429; i++) {
      const response = await at.api.post(
        `/api/devices/${at.device.deviceId}/unattended/sessions`,
        at.admin,
        { password: `wrong-password-${i}` },
        { address: freshAddress() },
      );
      statuses.push(response.status);
      await response.body?.cancel();
    }
    assert.equal(statuses.at(-1), 429, `statuses ${statuses}`);
    assert.ok(
      statuses.slice(0, -1).every((status) => status === 403),
      `statuses ${statuses}`,
    );
    // Past the free failures even the right password waits: the throttle is the device's.
    const throttled = await assertProblem(await connect(password), 429, 'TOO_FREQUENT');
    assert.match(throttled.detail ?? '', /wrong passwords/);
    const refused = await devicesApi(at.cp, at.admin).audit('device.unattended-password-refused');
    assert.equal(refused.length >= 4, true, `${refused.length} refusals audited`);
    assert.doesNotMatch(JSON.stringify(refused), /wrong-password/, 'no password in the audit');
  });

  it('an operator whose role the policy does not name is refused, and an auditor cannot ask', async () => {
    const me = await expectJson<{ operator: { organisationId: string } }>(
      await at.api.get('/api/auth/me', at.admin),
      200,
    );
    const organisationId = me.operator.organisationId;
    const technician = await createOperator(at.api, at.admin, {
      username: 'tech-u',
      role: 'technician',
      organisationId,
    });
    const auditor = await createOperator(at.api, at.admin, {
      username: 'audit-u',
      role: 'auditor',
      organisationId,
    });
    const byPolicy = await assertProblem(await start({ cookie: technician.cookie }), 403, 'POLICY_FORBIDS');
    assert.match(byPolicy.detail ?? '', /technician/);
    await assertProblem(await start({ cookie: auditor.cookie }), 403, 'FORBIDDEN');
  });

  it('a group whose policy does not allow unattended access is refused with POLICY_FORBIDS', async () => {
    await expectJson(
      await at.api.put(`/api/groups/${at.device.groupId}/policy`, at.admin, DEFAULT_POLICY),
      200,
    );
    try {
      const refused = await assertProblem(await start(), 403, 'POLICY_FORBIDS');
      assert.match(refused.detail ?? '', /does not allow unattended access/);
    } finally {
      await expectJson(
        await at.api.put(`/api/groups/${at.device.groupId}/policy`, at.admin, UNATTENDED_POLICY),
        200,
      );
    }
  });
});

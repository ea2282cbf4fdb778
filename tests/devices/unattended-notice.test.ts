import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { expectJson } from '../support/api.ts';
import { waitFor } from '../support/processes.ts';
import { joinDeviceSession, useRunningDevice } from './device-support.ts';
import { noticeTmux } from './notice-tmux.ts';

/** Unattended access for administrators, the user at the device told or not. */
const unattendedPolicy = (notifyUser: boolean): Policy => ({
  ...DEFAULT_POLICY,
  unattended: { allowed: true, roles: ['admin'], notifyUser },
  // Nobody is logged in at the test display (`who` names nobody): the host runs as the service's user
  // (root), which takes the policy's elevation.
  elevatedTools: true,
});

/** The user's desktop: a session host that tells the user opens its terminal in it. */
const desk = noticeTmux('unattended');

describe('what the user at a device sees of unattended access', { timeout: 300_000 }, () => {
  const at = useRunningDevice({
    group: 'Attended desks',
    policy: unattendedPolicy(true),
    env: desk.env,
    display: true,
  });

  /** Starts access under `policy`, connects with its password and joins as the operator. */
  async function connectUnattended(policy: Policy) {
    const { api, admin, device } = at;
    await expectJson(await api.put(`/api/groups/${device.groupId}/policy`, admin, policy), 200);
    const { password } = await expectJson<{ password: string }>(
      await api.post(`/api/devices/${device.deviceId}/unattended`, admin),
      201,
    );
    const { sessionId } = await expectJson<{ sessionId: string }>(
      await api.post(`/api/devices/${device.deviceId}/unattended/sessions`, admin, { password }),
      201,
    );
    const operator = await joinDeviceSession(at.cp, admin, sessionId);
    // No prompt either way: the order grants the screen, and the picture arrives.
    const consent = await operator.next('consent', 0, 20_000);
    assert.equal(consent.accepted, true);
    await operator.until(() => operator.videos().length > 0, 'a picture of the screen', 20_000);
    return operator;
  }

  afterEach(async () => {
    await desk.clear();
  });

  it('with notifyUser on, the user is shown a notice naming the operator and saying it is unattended access', async () => {
    const operator = await connectUnattended(unattendedPolicy(true));
    try {
      const screen = await waitFor('the notice on the device', async () => {
        const text = await desk.screen();
        return /has opened/.test(text) ? text : undefined;
      });
      assert.match(screen, /Lifeline: (Administrator|admin) of your help desk has opened/i);
      assert.match(screen, /an unattended session on this computer \(your screen is shared\)/);
      operator.send({ type: 'end', reason: 'operator-ended' });
      await operator.waitClosed(10_000);
    } finally {
      await operator.close();
    }
  });

  it('with notifyUser off, nothing is shown to the user at the device', async () => {
    const operator = await connectUnattended(unattendedPolicy(false));
    try {
      // The picture already flows, so the host is up: a notice would have opened by now.
      assert.deepEqual(await desk.pids(), [], 'no notice terminal is open');
      assert.equal(await desk.screen(), '');
      operator.send({ type: 'end', reason: 'operator-ended' });
      await operator.waitClosed(10_000);
    } finally {
      await operator.close();
    }
  });
});

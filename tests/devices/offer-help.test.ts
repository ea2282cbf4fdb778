import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { expectJson } from '../support/api.ts';
import { isAlive, waitFor } from '../support/processes.ts';
import { joinDeviceSession, useRunningDevice } from './device-support.ts';
import { noticeTmux } from './notice-tmux.ts';

/**
 * Nobody is logged in at the test display (`who` names nobody): the host runs as the service's user
 * (root), which takes the policy's elevation.
 */
const DESK_POLICY: Policy = { ...DEFAULT_POLICY, elevatedTools: true };

/** The user's desktop: the session host's terminal opens in it. */
const desk = noticeTmux('offer');

interface SessionView {
  status: string;
  endReason: string | null;
  agentConnected: boolean;
}

describe('offering help to the user at a resident device', { timeout: 300_000 }, () => {
  const at = useRunningDevice({ group: 'Desks', policy: DESK_POLICY, env: desk.env, display: true });

  const session = async (id: string) =>
    expectJson<SessionView>(await at.api.get(`/api/sessions/${id}`, at.admin), 200);

  /** Offers help and joins the session as the operator once the device's host is there. */
  async function offer(reason: string) {
    const { sessionId } = await expectJson<{ sessionId: string }>(
      await at.api.post(`/api/devices/${at.device.deviceId}/offer-help`, at.admin, { reason }),
      201,
    );
    const operator = await joinDeviceSession(at.cp, at.admin, sessionId);
    const screen = await waitFor('the offer on the device', async () => {
      const text = await desk.screen();
      return /wants to connect/.test(text) ? text : undefined;
    });
    return { sessionId, operator, screen };
  }

  afterEach(async () => {
    await desk.clear();
  });

  it('the user sees who offers help and what for; nothing reaches the operator before consent; accepting starts the session', async () => {
    const { sessionId, operator, screen } = await offer('your printer queue is stuck');
    try {
      assert.match(screen, /Administrator|admin/i);
      assert.match(screen, /offers to help you with: your printer queue is stuck/);
      assert.equal(operator.videos().length, 0, 'no picture before consent');
      assert.equal(operator.messages('consent').length, 0);
      await desk.press('Enter');
      const consent = await operator.next('consent', 0, 10_000);
      assert.equal(consent.accepted, true);
      assert.equal(consent.permissions.view, true);
      await operator.until(() => operator.videos().length > 0, 'a picture of the screen', 20_000);
      assert.equal((await session(sessionId)).status, 'active');
      operator.send({ type: 'end', reason: 'operator-ended' });
      await operator.waitClosed(10_000);
    } finally {
      await operator.close();
    }
  });

  it('the user refuses: the operator is told, sees nothing, and the session ends as consent-refused', async () => {
    const { sessionId, operator } = await offer('a quick check');
    try {
      const [pid] = await desk.pids();
      assert.ok(pid, 'the session host has a terminal');
      await desk.press('n');
      const consent = await operator.next('consent', 0, 10_000);
      assert.equal(consent.accepted, false);
      await operator.waitClosed(10_000);
      assert.equal(operator.videos().length, 0, 'nothing was shown to the operator');
      const ended = await waitFor('the session ended', async () => {
        const view = await session(sessionId);
        return view.status === 'ended' ? view : undefined;
      });
      assert.equal(ended.endReason, 'consent-refused');
      await waitFor('the session host gone', () => !isAlive(pid));
    } finally {
      await operator.close();
    }
  });
});

import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { afterEach, before, describe, it } from 'node:test';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { type ApiClient, assertProblem, type Credentials, expectJson } from '../support/api.ts';
import { waitFor } from '../support/processes.ts';
import { devicesApi, ELEVATED_POLICY, type RunningDevice, useRunningDevice } from './device-support.ts';
import { noticeTmux } from './notice-tmux.ts';

/** The user's desktop: the service opens its notices in it. */
const desk = noticeTmux('admin-shell');

interface SessionView {
  id: string;
  access: string | null;
  policy: Policy;
}

describe('elevated tools: the administrator shell of a resident device', { timeout: 300_000 }, () => {
  // Elevated tools on, background access off: the administrator shell needs only the former.
  const at = useRunningDevice({ group: 'Admin shells', policy: ELEVATED_POLICY, env: desk.env });
  let api: ApiClient;
  let admin: Credentials;
  let device: RunningDevice;

  const openShell = (who: Credentials = admin) =>
    api.post(`/api/devices/${device.deviceId}/admin-shell`, who);
  const audit = (action: string) => devicesApi(at.cp, admin).audit(action);

  before(async () => {
    ({ api, admin, device } = at);
  });

  afterEach(async () => {
    await desk.clear();
  });

  it("runs commands as the service's user, has no files, tells the user, and is audited", async () => {
    const { session } = await expectJson<{ session: SessionView }>(await openShell(), 201);
    assert.equal(session.access, 'background');
    assert.equal(session.policy.modes.shell, true);
    assert.equal(session.policy.modes.files, false, 'a shell only');
    const waited = await expectJson<{ reached: boolean }>(
      await api.get(`/api/sessions/${session.id}/wait?until=agent-connected&timeout=30`, admin),
      200,
    );
    assert.ok(waited.reached, 'the session host connected');
    const ran = await expectJson<{ exitCode: number; stdout: string }>(
      await api.post(`/api/sessions/${session.id}/exec`, admin, { command: 'id -un' }),
      200,
    );
    assert.equal(ran.stdout.trim(), userInfo().username, "the service's user (root on a real device)");

    const notice = await waitFor('the notice on the device', async () => {
      const text = await desk.screen();
      return /administrator shell/.test(text) ? text : undefined;
    });
    assert.match(
      notice,
      /(Administrator|admin) of your help desk opened an administrator shell on this computer/i,
    );

    const uses = (await audit('device.elevated-tool')).map((e) => e.details ?? {});
    assert.ok(
      uses.some((d) => d['tool'] === 'admin-shell' && d['sessionId'] === session.id && d['told'] === true),
      JSON.stringify(uses),
    );
    const started = (await audit('remote_session_start')).filter((e) => e.sessionId === session.id);
    assert.equal(started[0]?.details?.['elevated'], true);
    const lines = await waitFor('the command audited', async () => {
      const events = (await audit('background_access_shell')).filter((e) => e.sessionId === session.id);
      return events.length > 0 ? events : undefined;
    });
    assert.ok(
      lines.some((e) => JSON.stringify(e.details).includes('id -un')),
      JSON.stringify(lines),
    );
    await expectJson(await api.post(`/api/sessions/${session.id}/end`, admin), 200);
  });

  it('a technician, and a group without elevated tools, are refused with POLICY_FORBIDS; an auditor with FORBIDDEN', async () => {
    const technician = await at.operator('tech-s', 'technician');
    const auditor = await at.operator('audit-s', 'auditor');
    const refused = await assertProblem(
      await openShell({ cookie: technician.cookie }),
      403,
      'POLICY_FORBIDS',
    );
    assert.match(refused.detail ?? '', /technician/);
    await assertProblem(await openShell({ cookie: auditor.cookie }), 403, 'FORBIDDEN');
    // Background access stays off: the administrator shell is not a way around it.
    await assertProblem(
      await api.post(`/api/devices/${device.deviceId}/background-access`, admin),
      403,
      'POLICY_FORBIDS',
    );
    await expectJson(await api.put(`/api/groups/${device.groupId}/policy`, admin, DEFAULT_POLICY), 200);
    try {
      const off = await assertProblem(await openShell(), 403, 'POLICY_FORBIDS');
      assert.match(off.detail ?? '', /does not allow elevated tools/);
    } finally {
      await expectJson(await api.put(`/api/groups/${device.groupId}/policy`, admin, ELEVATED_POLICY), 200);
    }
    assert.deepEqual(await desk.pids(), [], 'the user is shown nothing');
    const refusals = (await audit('device.elevated-tool'))
      .filter((e) => e.details?.['tool'] === 'admin-shell' && e.details['result'] !== 'ok')
      .map((e) => e.details?.['result']);
    assert.deepEqual(refusals.sort(), ['FORBIDDEN', 'POLICY_FORBIDS', 'POLICY_FORBIDS']);
  });
});

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type ApiClient, assertProblem, type Credentials, expectJson } from '../support/api.ts';
import type { TestControlPlane } from '../support/control-plane.ts';
import { isAlive, type Spawned, spawnCollecting, waitFor } from '../support/processes.ts';
import { devicesApi, ELEVATED_POLICY, type RunningDevice, useRunningDevice } from './device-support.ts';
import { noticeTmux } from './notice-tmux.ts';

/** The user's desktop: the service opens its notices in it. */
const desk = noticeTmux('elevated');

describe('what the user at a device is told of elevated tools, and refusals audited', {
  timeout: 300_000,
}, () => {
  const at = useRunningDevice({ group: 'Told desks', policy: ELEVATED_POLICY, env: desk.env });
  let cp: TestControlPlane;
  let api: ApiClient;
  let admin: Credentials;
  let device: RunningDevice;
  const started: Spawned[] = [];

  /** The notices open on the desk once one matches `pattern`. */
  const noticeMatching = (pattern: RegExp) =>
    waitFor(`a notice matching ${pattern}`, async () => {
      const text = await desk.screen();
      return pattern.test(text) ? text : undefined;
    });

  before(async () => {
    ({ cp, api, admin, device } = at);
  });

  afterEach(async () => {
    await desk.clear();
  });

  after(async () => {
    for (const spawned of started) await spawned.kill();
  });

  it('the user is told when the operator opens the task manager and when a program is ended', async () => {
    assert.deepEqual(await desk.pids(), [], 'no notice before any tool is used');
    await expectJson(await api.get(`/api/devices/${device.deviceId}/processes`, admin), 200);
    const opened = await noticeMatching(/opened the task manager/);
    assert.match(
      opened,
      /Lifeline: (Administrator|admin) of your help desk opened the task manager on this computer/i,
    );

    const sleeper = spawnCollecting('sleep', ['1000'], { PATH: process.env['PATH'] });
    started.push(sleeper);
    const pid = sleeper.child.pid!;
    await expectJson(await api.post(`/api/devices/${device.deviceId}/processes/${pid}/end`, admin), 200);
    const ended = await noticeMatching(/ended the program/);
    assert.match(ended, new RegExp(`ended the program "sleep" \\(process ${pid}\\)`));

    const uses = (await devicesApi(cp, admin).audit('device.elevated-tool')).map((e) => e.details ?? {});
    assert.ok(
      uses.some((d) => d['tool'] === 'end-process' && d['pid'] === pid && d['told'] === true),
      JSON.stringify(uses),
    );
  });

  it("an auditor's 403 on an elevated tool is audited, and nothing is ended or shown", async () => {
    const sleeper = spawnCollecting('sleep', ['1000'], { PATH: process.env['PATH'] });
    started.push(sleeper);
    const pid = sleeper.child.pid!;
    const auditor = await at.operator('auditor-n', 'auditor');
    const as = { cookie: auditor.cookie };
    await assertProblem(await api.get(`/api/devices/${device.deviceId}/processes`, as), 403, 'FORBIDDEN');
    await assertProblem(
      await api.post(`/api/devices/${device.deviceId}/processes/${pid}/end`, as),
      403,
      'FORBIDDEN',
    );
    assert.ok(isAlive(pid), 'the process still runs');
    assert.deepEqual(await desk.pids(), [], 'the user is shown nothing');

    const events = await devicesApi(cp, admin).audit('device.elevated-tool');
    const refusals = events.filter((e) => e.actorId === auditor.operator.id);
    const tools = refusals.map((e) => [e.details?.['tool'], e.details?.['result'], e.details?.['deviceId']]);
    assert.deepEqual(tools.sort(), [
      ['end-process', 'FORBIDDEN', device.deviceId],
      ['processes', 'FORBIDDEN', device.deviceId],
    ]);
  });
});

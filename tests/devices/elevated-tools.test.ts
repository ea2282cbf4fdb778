import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_POLICY, MAX_LISTED_PROCESSES, type ProcessInfo } from '../../protocol/index.ts';
import { type ApiClient, assertProblem, type Credentials, expectJson } from '../support/api.ts';
import type { TestControlPlane } from '../support/control-plane.ts';
import { isAlive, type Spawned, spawnCollecting, waitFor } from '../support/processes.ts';
import { devicesApi, ELEVATED_POLICY, type RunningDevice, useRunningDevice } from './device-support.ts';

type ProcessList = { processes: ProcessInfo[]; total: number };

describe('elevated tools: the task manager of a resident device', { timeout: 300_000 }, () => {
  const at = useRunningDevice({ group: 'Elevated', policy: ELEVATED_POLICY });
  let cp: TestControlPlane;
  let api: ApiClient;
  let admin: Credentials;
  let device: RunningDevice;
  let deviceId: string;
  let groupId: string;
  const started: Spawned[] = [];

  const list = (query = '', credentials: Credentials = admin) =>
    api.get(`/api/devices/${deviceId}/processes${query}`, credentials);
  const end = (pid: number, credentials: Credentials = admin) =>
    api.post(`/api/devices/${deviceId}/processes/${pid}/end`, credentials);
  /** A real process on this machine (the device's), ended by the test if the test did not end it. */
  const startProcess = (command: string, args: string[]) => {
    const spawned = spawnCollecting(command, args, { PATH: process.env['PATH'] });
    started.push(spawned);
    return spawned.child.pid!;
  };

  before(async () => {
    ({ cp, api, admin, device } = at);
    ({ deviceId, groupId } = device);
  });

  after(async () => {
    for (const spawned of started) await spawned.kill();
  });

  it('a real sleep appears in the list, End task kills it, and both uses are audited', async () => {
    const pid = startProcess('sleep', ['1000']);
    const found = await expectJson<ProcessList>(await list('?name=SLEE'), 200);
    const sleeper = found.processes.find((p) => p.pid === pid);
    assert.ok(sleeper, `pid ${pid} in ${JSON.stringify(found.processes)}`);
    assert.equal(sleeper.name, 'sleep');
    assert.equal(sleeper.user, userInfo().username);
    assert.ok(
      found.processes.every((p) => p.name.toLowerCase().includes('slee')),
      'only matching names',
    );

    const ended = await expectJson<{ pid: number; name: string; signal: string }>(await end(pid), 200);
    assert.deepEqual(ended, { pid, name: 'sleep', signal: 'SIGTERM' });
    await waitFor('the sleep to be gone (kill -0)', () => !isAlive(pid));
    await assertProblem(await end(pid), 404, 'NOT_FOUND');

    const audit = await devicesApi(cp, admin).audit('device.elevated-tool');
    const uses = audit.map((event) => event.details ?? {});
    assert.ok(
      uses.some((d) => d['tool'] === 'processes' && d['result'] === 'ok' && d['deviceId'] === deviceId),
      JSON.stringify(uses),
    );
    assert.ok(
      uses.some(
        (d) =>
          d['tool'] === 'end-process' && d['pid'] === pid && d['name'] === 'sleep' && d['result'] === 'ok',
      ),
      JSON.stringify(uses),
    );
  });

  it('a process that ignores SIGTERM is killed after the grace', { timeout: 60_000 }, async () => {
    const pid = startProcess(process.execPath, [
      '-e',
      "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('ready')",
    ]);
    await waitFor('the stubborn process ready', () => started.at(-1)!.output().includes('ready'));
    const ended = await expectJson<{ signal: string }>(await end(pid), 200);
    assert.equal(ended.signal, 'SIGKILL');
    await waitFor('the stubborn process to be gone', () => !isAlive(pid));
  });

  it('the list is bounded and says how many processes matched', async () => {
    const all = await expectJson<ProcessList>(await list(), 200);
    assert.ok(
      all.processes.length > 0 && all.processes.length <= MAX_LISTED_PROCESSES,
      `${all.processes.length} listed`,
    );
    assert.ok(all.total >= all.processes.length);
  });

  it('a technician is refused with POLICY_FORBIDS and an auditor cannot ask; nothing is ended', async () => {
    const pid = startProcess('sleep', ['1000']);
    const technician = await at.operator('tech-e', 'technician');
    const auditor = await at.operator('audit-e', 'auditor');
    const manager = await at.operator('manager-e', 'manager');
    const refused = await assertProblem(await end(pid, { cookie: technician.cookie }), 403, 'POLICY_FORBIDS');
    assert.match(refused.detail ?? '', /technician/);
    await assertProblem(await list('', { cookie: technician.cookie }), 403, 'POLICY_FORBIDS');
    await assertProblem(await end(pid, { cookie: auditor.cookie }), 403, 'FORBIDDEN');
    assert.ok(isAlive(pid), 'the process still runs');
    // A manager may.
    await expectJson(await list('?name=sleep', { cookie: manager.cookie }), 200);
  });

  it('a group whose policy does not enable elevated tools is refused with POLICY_FORBIDS', async () => {
    const pid = startProcess('sleep', ['1000']);
    await expectJson(await api.put(`/api/groups/${groupId}/policy`, admin, DEFAULT_POLICY), 200);
    try {
      const refused = await assertProblem(await end(pid), 403, 'POLICY_FORBIDS');
      assert.match(refused.detail ?? '', /does not allow elevated tools/);
      await assertProblem(await list(), 403, 'POLICY_FORBIDS');
      assert.ok(isAlive(pid), 'the process still runs');
    } finally {
      await expectJson(await api.put(`/api/groups/${groupId}/policy`, admin, ELEVATED_POLICY), 200);
    }
  });
});

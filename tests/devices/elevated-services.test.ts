import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import type { ServiceInfo } from '../../protocol/index.ts';
import { type ApiClient, assertProblem, type Credentials, expectJson } from '../support/api.ts';
import { waitFor } from '../support/processes.ts';
import { devicesApi, ELEVATED_POLICY, type RunningDevice, useRunningDevice } from './device-support.ts';
import { useFakeSystemctl } from './fake-systemctl.ts';
import { noticeTmux } from './notice-tmux.ts';

/** The user's desktop: the service opens its notices in it. */
const desk = noticeTmux('services');

describe('elevated tools: the services of a resident device', { timeout: 300_000 }, () => {
  // The service finds the fake systemctl first on its PATH.
  const systemctl = useFakeSystemctl();
  const at = useRunningDevice({
    group: 'Services',
    policy: ELEVATED_POLICY,
    env: { ...desk.env, ...systemctl.env },
  });
  let api: ApiClient;
  let admin: Credentials;
  let device: RunningDevice;

  const act = (name: string, action: string, who: Credentials = admin) =>
    api.post(`/api/devices/${device.deviceId}/services/${encodeURIComponent(name)}/${action}`, who);

  before(async () => {
    ({ api, admin, device } = at);
  });

  afterEach(async () => {
    await desk.clear();
  });

  it('lists the service units systemctl reports, stops one with `--` before its name, tells the user, and audits both', async () => {
    const listed = await expectJson<{ services: ServiceInfo[]; total: number }>(
      await api.get(`/api/devices/${device.deviceId}/services`, admin),
      200,
    );
    assert.deepEqual(listed.services, [
      {
        unit: 'demo.service',
        load: 'loaded',
        active: 'active',
        sub: 'running',
        description: 'Demo daemon for tests',
      },
      {
        unit: 'cups.service',
        load: 'loaded',
        active: 'inactive',
        sub: 'dead',
        description: 'CUPS Scheduler',
      },
    ]);
    assert.equal(listed.total, 2);
    assert.deepEqual(systemctl.calls()[0], [
      'list-units',
      '--type=service',
      '--all',
      '--no-pager',
      '--plain',
      '--no-legend',
    ]);
    await waitFor('the notice', async () => /opened the services of this computer/.test(await desk.screen()));

    assert.deepEqual(await expectJson(await act('demo.service', 'stop'), 200), {
      unit: 'demo.service',
      action: 'stop',
    });
    assert.deepEqual(systemctl.calls().at(-1), ['stop', '--no-ask-password', '--', 'demo.service']);
    await waitFor('the notice', async () => /stopped the service "demo.service"/.test(await desk.screen()));
    await assertProblem(await act('gone.service', 'restart'), 404, 'NOT_FOUND');

    const uses = (await devicesApi(at.cp, admin).audit('device.elevated-tool')).map((e) => e.details ?? {});
    assert.ok(
      uses.some(
        (d) => d['tool'] === 'service-action' && d['unit'] === 'demo.service' && d['result'] === 'ok',
      ),
      JSON.stringify(uses),
    );
    assert.ok(
      uses.some((d) => d['tool'] === 'services' && d['result'] === 'ok' && d['told'] === true),
      JSON.stringify(uses),
    );
  });

  it('names that are not service units, and other actions, are refused with 400 and never reach systemctl', async () => {
    const before = systemctl.calls().length;
    for (const name of [
      '--help.service',
      '-x.service',
      'demo',
      'a b.service',
      'demo.service;reboot',
      '../x.service',
    ])
      await assertProblem(await act(name, 'stop'), 400, 'VALIDATION_FAILED');
    await assertProblem(await act('demo.service', 'mask'), 400, 'VALIDATION_FAILED');
    assert.equal(systemctl.calls().length, before);
  });

  it('a technician is refused with POLICY_FORBIDS and an auditor with FORBIDDEN, both audited', async () => {
    const before = systemctl.calls().length;
    const technician = await at.operator('tech-v', 'technician');
    const auditor = await at.operator('audit-v', 'auditor');
    await assertProblem(
      await act('demo.service', 'stop', { cookie: technician.cookie }),
      403,
      'POLICY_FORBIDS',
    );
    await assertProblem(
      await api.get(`/api/devices/${device.deviceId}/services`, { cookie: auditor.cookie }),
      403,
      'FORBIDDEN',
    );
    assert.equal(systemctl.calls().length, before, 'systemctl was not called');
    const refused = (await devicesApi(at.cp, admin).audit('device.elevated-tool'))
      .filter((e) => e.actorId === technician.operator.id || e.actorId === auditor.operator.id)
      .map((e) => `${e.details?.['tool']}:${e.details?.['result']}`);
    assert.deepEqual(refused.sort(), ['service-action:POLICY_FORBIDS', 'services:FORBIDDEN']);
  });
});

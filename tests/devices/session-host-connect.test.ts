import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HOST_CONNECT_ENV } from '../../agent/device/session-host-launcher.ts';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { apiClient, assertProblem, type Credentials, expectJson } from '../support/api.ts';
import { freePort, loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { childrenOf, isAlive, waitFor } from '../support/processes.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { devicesApi, type RunningDevice, runningDevice } from './device-support.ts';

/** Background access as the service's user (nobody is logged in at a test device). */
const POLICY: Policy = {
  ...DEFAULT_POLICY,
  elevatedTools: true,
  backgroundAccess: { allowed: true, roles: ['admin'], notifyUser: false },
};
/** How long the device gives a session host to reach the relay here, in milliseconds. */
const CONNECT_MS = 3_000;

// The device reaches its control plane through a door that, once told, swallows every new
// connection: the service's own link stays up, a session host's socket to the relay hangs.
describe('a session host that starts but never reaches the relay', { timeout: 300_000 }, () => {
  let cp: TestControlPlane;
  let door: TcpProxy;
  let admin: Credentials;
  let device: RunningDevice;

  before(async () => {
    const doorPort = await freePort();
    const server = `http://127.0.0.1:${doorPort}`;
    cp = await startControlPlane({ listen: true, env: { LIFELINE_PUBLIC_URL: server } });
    door = await startTcpProxy(Number(new URL(cp.url).port), { port: doorPort });
    admin = { cookie: await loginCookie(cp.app) };
    device = await runningDevice({ ...cp, url: server }, admin, {
      group: 'Behind a swallowing link',
      policy: POLICY,
      env: { [HOST_CONNECT_ENV]: String(CONNECT_MS) },
    });
  });

  after(async () => {
    await device?.remove();
    await door?.close();
    await cp?.stop();
  });

  it('is stopped after the bound, and the operator is told why instead of a session that waits', async () => {
    door.swallowNew();
    const problem = await assertProblem(
      await apiClient(cp).post(`/api/devices/${device.deviceId}/background-access`, admin),
      409,
      'INTERNAL',
    );
    assert.match(problem.detail ?? '', /did not connect to the relay within 3 s and was stopped/);
    const [refused] = await devicesApi(cp, admin).audit('remote_session_refused');
    assert.ok(refused?.sessionId, 'the refusal is audited with its session');
    assert.match(JSON.stringify(refused.details), /did not connect to the relay/);
    const session = await expectJson<{ status: string; endReason: string | null }>(
      await apiClient(cp).get(`/api/sessions/${refused.sessionId}`, admin),
      200,
    );
    assert.deepEqual(
      [session.status, session.endReason],
      ['ended', 'error'],
      'the session is not left waiting',
    );
    const service = device.service.child.pid!;
    await waitFor('no session host left', () => childrenOf(service).every((child) => !isAlive(child.pid)));
    // The host's end reaches the service as its socket closes, a moment after the process is gone.
    await waitFor('the service to see its host end', () =>
      /"event":"session-host-exit"/.test(device.service.output()),
    );
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installLayout } from '../../agent/device/layout.ts';
import { DEFAULT_POLICY } from '../../protocol/index.ts';
import { apiClient, type Credentials, expectJson } from '../support/api.ts';
import { loginCookie, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import type { TcpProxy } from '../support/tcp-proxy.ts';
import { type BehindProxy, startBehindProxy, type Tinyproxy } from '../support/tinyproxy.ts';
import { agentCommand, devicesApi, startAsSystemd } from './device-support.ts';

const PROXY_PASSWORD = 'pr0xy-s3cret';

// The control plane is reachable only through the proxy (startBehindProxy).
describe('the resident agent behind an HTTP proxy (real tinyproxy)', () => {
  let site: BehindProxy;
  let cp: TestControlPlane;
  let proxy: Tinyproxy;
  let door: TcpProxy;
  let server: string;
  let admin: Credentials;
  let root: string;
  let service: Spawned | undefined;
  let groupId: string;
  const api = () => devicesApi(cp, admin);

  before(async () => {
    site = await startBehindProxy({ user: 'helpdesk', password: PROXY_PASSWORD });
    ({ cp, proxy, door, server } = site);
    admin = { cookie: await loginCookie(cp.app) };
    root = mkdtempSync(join(tmpdir(), 'lifeline-root-'));
  });

  after(async () => {
    await service?.kill();
    await site?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('install --proxy enrols through the proxy, and the service it installs goes online through it too', async () => {
    const group = await api().createGroup('Behind a proxy');
    groupId = group.id;
    const key = await api().issueKey(group.id);
    const result = await agentCommand([
      'install',
      '--key',
      key,
      '--server',
      server,
      '--proxy',
      proxy.url(),
      '--root',
      root,
    ]);
    assert.equal(result.code, 0, result.output);
    const saved = JSON.parse(readFileSync(installLayout(root).credentials, 'utf8'));
    assert.equal(saved.proxy, new URL(proxy.url()).href, 'the service keeps the proxy');

    // systemd gives the service no proxy variables: it has only what install kept.
    service = startAsSystemd(installLayout(root).unitFile);
    await waitFor('the device online', async () => (await api().list('', { status: 'online' })).items[0]);
    assert.match(service.output(), /"proxy":"http:\/\/helpdesk@127\.0\.0\.1:\d+"/, 'the log names the proxy');
    assert.doesNotMatch(service.output(), new RegExp(PROXY_PASSWORD), 'but never its password');
    const doorAddress = new URL(server).host;
    assert.ok(
      proxy.connects().filter((target) => target === doorAddress).length >= 2,
      `the enrolment and the service's link went through the proxy: ${proxy.connects()}`,
    );
    assert.equal(door.refused(), 0, 'nothing went around the proxy');
  });

  it('background access works end to end when the control plane is reachable only through the proxy', async () => {
    assert.ok(service, 'the service of the test above runs');
    const client = apiClient(cp);
    await expectJson(
      await client.put(`/api/groups/${groupId}/policy`, admin, {
        ...DEFAULT_POLICY,
        // Elevation: the shell runs as the service's user (nobody is logged in at this console).
        elevatedTools: true,
        backgroundAccess: { allowed: true, roles: ['admin'], notifyUser: false },
      }),
      200,
    );
    const [device] = (await api().list('')).items;
    assert.ok(device);
    const before = proxy.connects().length;
    const { session } = await expectJson<{ session: { id: string } }>(
      await client.post(`/api/devices/${device.id}/background-access`, admin),
      201,
    );
    // The session host the service starts joins the relay at the door too: only through the proxy.
    const waited = await expectJson<{ reached: boolean }>(
      await client.get(`/api/sessions/${session.id}/wait?until=agent-connected&timeout=30`, admin),
      200,
    );
    assert.ok(waited.reached, `the session host connected: ${service.output()}`);
    const ran = await expectJson<{ exitCode: number; stdout: string }>(
      await client.post(`/api/sessions/${session.id}/exec`, admin, { command: 'echo through-the-proxy' }),
      200,
    );
    assert.equal(ran.stdout.trim(), 'through-the-proxy');
    assert.ok(proxy.connects().length > before, 'the session host went through the proxy');
    assert.equal(door.refused(), 0, 'nothing went around the proxy');
    await expectJson(await client.post(`/api/sessions/${session.id}/end`, admin), 200);
  });
});

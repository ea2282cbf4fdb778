import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installLayout } from '../../agent/device/layout.ts';
import type { Credentials } from '../support/api.ts';
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
});

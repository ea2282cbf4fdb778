import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installLayout } from '../../agent/device/layout.ts';
import { generateSelfSigned, servedKeyPin } from '../../control-plane/http/tls.ts';
import type { Credentials } from '../support/api.ts';
import { freePort, loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { startImpostorServer } from '../support/tls-impostor.ts';
import { agentCommand, devicesApi, startAsSystemd } from './device-support.ts';

// The control plane serves HTTPS with its generated certificate; the device's server address is a
// door the test points at the real control plane, then at an impostor.
describe('a resident device recognises its server', () => {
  let cp: TestControlPlane;
  let admin: Credentials;
  let root: string;
  let scratch: string;
  let doorPort: number;
  let door: TcpProxy | undefined;
  let server: string;
  let trusted: string;
  const services: Spawned[] = [];
  const api = () => devicesApi(cp, admin);

  before(async () => {
    cp = await startControlPlane({ listen: true, tls: true });
    admin = { cookie: await loginCookie(cp.app) };
    root = mkdtempSync(join(tmpdir(), 'lifeline-root-'));
    scratch = mkdtempSync(join(tmpdir(), 'lifeline-impostor-'));
    await generateSelfSigned(join(scratch, 'cert.pem'), join(scratch, 'key.pem'), [
      'IP:127.0.0.1',
      'DNS:localhost',
    ]);
    // This computer trusts both the real server's certificate and the impostor's: only the pin tells them apart.
    trusted = join(scratch, 'trusted.pem');
    writeFileSync(
      trusted,
      readFileSync(join(cp.dataDir, 'tls', 'cert.pem'), 'utf8') +
        readFileSync(join(scratch, 'cert.pem'), 'utf8'),
    );
    doorPort = await freePort();
    door = await startTcpProxy(Number(new URL(cp.url).port), { port: doorPort });
    server = `https://127.0.0.1:${doorPort}`;
  });

  after(async () => {
    for (const service of services) await service.kill();
    await door?.close();
    await cp?.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it('install pins the key the enrolment saw; the service then refuses an impostor the system trusts, with a clear log line', async () => {
    const group = await api().createGroup('Pinned');
    const key = await api().issueKey(group.id);
    const installed = await agentCommand(['install', '--key', key, '--server', server, '--root', root], {
      NODE_EXTRA_CA_CERTS: trusted,
    });
    assert.equal(installed.code, 0, installed.output);
    const credentials = installLayout(root).credentials;
    const saved = JSON.parse(readFileSync(credentials, 'utf8'));
    assert.equal(saved.serverKey, await servedKeyPin(cp.services.config), "the server's key is kept");
    assert.equal(statSync(credentials).mode & 0o777, 0o600, 'in the root-only file');

    // The real server: the service goes online.
    const honest = startAsSystemd(installLayout(root).unitFile, { NODE_EXTRA_CA_CERTS: trusted });
    services.push(honest);
    await waitFor('the device online', async () => (await api().list('', { status: 'online' })).items[0]);
    await honest.kill();
    await door?.close();
    door = undefined;
    await waitFor('the device offline', async () => !(await api().list('', { status: 'online' })).items[0]);

    const impostor = await startImpostorServer(
      doorPort,
      { cert: readFileSync(join(scratch, 'cert.pem')), key: readFileSync(join(scratch, 'key.pem')) },
      Number(new URL(cp.url).port),
    );
    try {
      const fooled = startAsSystemd(installLayout(root).unitFile, { NODE_EXTRA_CA_CERTS: trusted });
      services.push(fooled);
      await waitFor('the refusal in the log', () =>
        /"event":"server-refused".*is not the help desk this device was enrolled with/.test(fooled.output()),
      );
      assert.equal(impostor.decryptedBytes(), 0, 'not a byte reached the impostor inside TLS');
      assert.equal((await api().list('', { status: 'online' })).items.length, 0, 'the device is not online');
    } finally {
      await impostor.close();
    }
  });
});

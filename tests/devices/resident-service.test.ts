import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { signDeviceToken } from '../../agent/device/device-key.ts';
import { installLayout } from '../../agent/device/layout.ts';
import { EXIT_IDENTITY_REFUSED } from '../../agent/device/systemd-unit.ts';
import { CloseCode } from '../../protocol/index.ts';
import { type ConsolePage, launchConsoleBrowser, openConsole, signIn } from '../console/real-console.ts';
import type { Credentials } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { agentCommand, deviceHello, devicesApi, startAsSystemd } from './device-support.ts';

const run = promisify(execFile);

/** Every file (not folder) under `dir`. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
    (name) => !statSync(join(dir, name)).isDirectory(),
  );
}

describe('the resident agent as a systemd service', { timeout: 300_000 }, () => {
  let cp: TestControlPlane;
  let admin: Credentials;
  let root: string;
  let groupId: string;
  let key: string;
  let service: Spawned | undefined;
  let browser: Browser;
  let view: ConsolePage;
  const api = () => devicesApi(cp, admin);

  /** The status the console's Devices page shows for the device, waiting until it says `status`. */
  async function consoleShows(status: string): Promise<void> {
    await view.page.waitForSelector(`[data-testid=device-row][data-status=${status}]`, { timeout: 30_000 });
  }

  before(async () => {
    // One-second pings: a silent device is cut within three (the default is ten seconds each).
    cp = await startControlPlane({ listen: true, env: { LIFELINE_PING_SECONDS: '1' } });
    admin = { cookie: await loginCookie(cp.app) };
    root = mkdtempSync(join(tmpdir(), 'lifeline-root-'));
    const group = await api().createGroup('Kiosks');
    groupId = group.id;
    key = await api().issueKey(groupId);
    browser = await launchConsoleBrowser();
    view = await openConsole(browser, cp);
  });

  after(async () => {
    await service?.kill();
    await browser?.close();
    await cp?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('install with a key that was never issued is refused and writes nothing', async () => {
    const result = await agentCommand([
      'install',
      '--key',
      'llr_not-a-real-key',
      '--server',
      cp.url,
      '--root',
      root,
    ]);
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, /registration key is not valid/);
    assert.deepEqual(filesUnder(root), []);
  });

  it('install with a rotated (previous) key is refused', async () => {
    const previous = key;
    key = await api().issueKey(groupId);
    const result = await agentCommand(['install', '--key', previous, '--server', cp.url, '--root', root]);
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, /FORBIDDEN/);
    assert.deepEqual(filesUnder(root), []);
    assert.equal((await api().list('')).items.length, 0);
  });

  it('install enrols the device and writes the executable, root-only credentials and a hardened unit', async () => {
    const result = await agentCommand(['install', '--key', key, '--server', cp.url, '--root', root]);
    assert.equal(result.code, 0, result.output);
    const layout = installLayout(root);
    assert.equal(statSync(layout.executable).mode & 0o777, 0o755);
    const credentials = statSync(layout.credentials);
    assert.equal(credentials.mode & 0o777, 0o600);
    assert.equal(credentials.uid, 0);
    assert.equal(statSync(join(root, 'etc/lifeline-agent')).mode & 0o777, 0o700);
    const saved = JSON.parse(readFileSync(layout.credentials, 'utf8'));
    assert.equal(saved.server, cp.url);
    assert.equal(saved.privateJwk.crv, 'Ed25519');
    assert.ok(saved.privateJwk.d, 'the private key stays on the device');

    const unit = readFileSync(layout.unitFile, 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${layout.executable} service$`, 'm'));
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, /^SocketBindDeny=any$/m, 'the service may not bind, so it cannot listen');
    assert.match(unit, /^NoNewPrivileges=yes$/m);

    const [device] = (await api().list('')).items;
    assert.ok(device);
    assert.equal(device.id, saved.deviceId);
    assert.equal(device.groupId, groupId);
    assert.equal(device.status, 'offline');
    assert.equal(device.reported.hostname, hostname());
    const audit = await api().audit('device.install');
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actorId, device.id);
  });

  it('systemd-analyze verify accepts the unit file without a warning', async () => {
    const { stdout, stderr } = await run('systemd-analyze', ['verify', installLayout(root).unitFile]);
    assert.equal(`${stdout}${stderr}`.trim(), '', 'no warnings about the unit');
  });

  it('the service started as systemd starts it is listed online with what it reports', async () => {
    service = startAsSystemd(installLayout(root).unitFile);
    const device = await waitFor('the device online', async () => {
      const [row] = (await api().list('', { status: 'online' })).items;
      return row;
    });
    assert.equal(device.reported.hostname, hostname());
    assert.equal(device.reported.agentVersion, '0.1.0');
    assert.match(device.reported.os ?? '', /linux/);
    assert.ok(device.lastSeenAt, 'an online device was seen');
    assert.equal((await api().list('', { status: 'offline' })).items.length, 0);

    await signIn(view.page, cp);
    await view.page.click('[data-testid=nav-devices]');
    await consoleShows('online');
    const row = view.page.locator('[data-testid=device-row]');
    assert.equal(await row.count(), 1);
    assert.equal(await row.locator('[data-testid=device-status]').textContent(), 'online');
    assert.equal(await row.locator('[data-testid=device-reported]').first().textContent(), hostname());
    assert.match(
      (await view.page.locator('[data-testid=devices]').locator('..').textContent()) ?? '',
      /reported by the device/,
    );
    assert.deepEqual(view.problems, []);
  });

  it('a service stopped with SIGTERM leaves politely and is listed offline', async () => {
    service!.child.kill('SIGTERM');
    assert.equal(await service!.exited, 0, service!.output());
    const device = await waitFor('the device offline', async () => {
      const [row] = (await api().list('', { status: 'offline' })).items;
      return row;
    });
    assert.equal(device.status, 'offline');
    service = undefined;
    assert.ok(existsSync(installLayout(root).executable), 'the installed copy never deletes itself');
    // The page reads the list again by itself.
    await consoleShows('offline');
  });

  it('a frozen service (SIGSTOP) is listed offline within the liveness bound', {
    timeout: 60_000,
  }, async () => {
    service = startAsSystemd(installLayout(root).unitFile);
    const online = await waitFor('the device online', async () => {
      const [row] = (await api().list('', { status: 'online' })).items;
      return row;
    });
    service.child.kill('SIGSTOP');
    // Three one-second pings unanswered; well inside the 30 s the API promises.
    const offline = await waitFor(
      'the device offline',
      async () => (await api().get(online.id)).status === 'offline',
      30_000,
    );
    assert.ok(offline);
    service.child.kill('SIGCONT');
    await service.kill();
    service = undefined;
  });

  it("a forgotten device's identity is refused: its service stops and is not restarted", async () => {
    service = startAsSystemd(installLayout(root).unitFile);
    const [device] = await waitFor('the device online', async () => {
      const { items } = await api().list('', { status: 'online' });
      return items.length ? items : undefined;
    });
    const credentials = JSON.parse(readFileSync(installLayout(root).credentials, 'utf8'));
    await api().forget(device!.id);
    assert.equal(await service.exited, EXIT_IDENTITY_REFUSED, service.output());
    assert.match(service.output(), /not enrolled \(or was removed\)/);
    service = undefined;
    assert.equal((await api().get(device!.id)).status, 'removed');
    // A fresh token signed with its key, as the device would sign it, is refused too.
    const refusal = await deviceHello(cp, await signDeviceToken(device!.id, credentials.privateJwk));
    assert.equal(refusal.code, 'TOKEN_INVALID');
    assert.equal(refusal.close, CloseCode.policy);
  });

  it('uninstall tells the server and leaves nothing behind', async () => {
    // The forgotten device's installation is still on disk; enrol again for a live one.
    let result = await agentCommand(['uninstall', '--root', root]);
    assert.equal(result.code, 0, result.output);
    result = await agentCommand(['install', '--key', key, '--server', cp.url, '--root', root]);
    assert.equal(result.code, 0, result.output);
    const credentials = JSON.parse(readFileSync(installLayout(root).credentials, 'utf8'));

    result = await agentCommand(['uninstall', '--root', root]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /marked device .* removed/);
    assert.deepEqual(filesUnder(root), []);
    const layout = installLayout(root);
    for (const path of [layout.executable, layout.credentials, layout.unitFile, layout.workDir])
      assert.ok(!existsSync(path), `${path} is gone`);
    const device = await api().get(credentials.deviceId);
    assert.equal(device.status, 'removed');
    assert.equal(device.removal, 'uninstalled');
    assert.equal((await api().audit('device.uninstall')).length, 1);
    const refusal = await deviceHello(
      cp,
      await signDeviceToken(credentials.deviceId, credentials.privateJwk),
    );
    assert.equal(refusal.code, 'TOKEN_INVALID');
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { installLayout } from '../../agent/device/layout.ts';
import { NOTICE_COMMAND_ENV } from '../../agent/device/notice-terminal.ts';
import {
  channelId,
  DEFAULT_POLICY,
  encodeShellData,
  MAX_SHELL_BYTES,
  type Policy,
  ShellStream,
} from '../../protocol/index.ts';
import { launchConsoleBrowser, openConsole, signIn } from '../console/real-console.ts';
import { joinOperator } from '../control-plane/relay-client.ts';
import {
  type AuditEvent,
  apiClient,
  assertProblem,
  type Credentials,
  createOperator,
  expectJson,
  type Page,
} from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { agentCommand, devicesApi, startAsSystemd } from './device-support.ts';

/** The tmux server (its own socket) that stands in for the console user's display. */
const NOTICE_SOCKET = `lifeline-notice-${process.pid}`;

const policyWith = (backgroundAccess: Policy['backgroundAccess']): Policy => ({
  ...DEFAULT_POLICY,
  backgroundAccess,
});

interface SessionView {
  id: string;
  status: string;
  access: string | null;
  deviceId: string | null;
  policy: Policy;
}

/** A file's text, or undefined while it does not exist. */
function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** What tmux shows of every pane on the notice server, or undefined when none is open. */
function noticeScreen(): string | undefined {
  try {
    const panes = execFileSync('tmux', ['-L', NOTICE_SOCKET, 'list-panes', '-a', '-F', '#{pane_id}'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return panes
      .split('\n')
      .filter(Boolean)
      .map((pane) =>
        execFileSync('tmux', ['-L', NOTICE_SOCKET, 'capture-pane', '-p', '-J', '-t', pane], {
          encoding: 'utf8',
        }),
      )
      .join('\n');
  } catch {
    return undefined;
  }
}

describe('background access to a resident device', { timeout: 300_000 }, () => {
  let cp: TestControlPlane;
  let admin: Credentials;
  let root: string;
  let service: Spawned;
  let deviceId: string;
  let groupId: string;
  let browser: Browser | undefined;
  const api = () => apiClient(cp);

  const setPolicy = async (policy: Policy) =>
    expectJson(await api().put(`/api/groups/${groupId}/policy`, admin, policy), 200);

  /** Opens background access as `who` and waits for the device side to be there. */
  async function open(who: Credentials = admin): Promise<SessionView> {
    const { session } = await expectJson<{ session: SessionView }>(
      await api().post(`/api/devices/${deviceId}/background-access`, who),
      201,
    );
    const waited = await expectJson<{ reached: boolean }>(
      await api().get(`/api/sessions/${session.id}/wait?until=agent-connected&timeout=30`, who),
      200,
    );
    assert.ok(waited.reached, 'the session host connected');
    return session;
  }

  const end = async (id: string) => expectJson(await api().post(`/api/sessions/${id}/end`, admin), 200);

  async function exec(sessionId: string, command: string): Promise<{ exitCode: number; stdout: string }> {
    return expectJson(await api().post(`/api/sessions/${sessionId}/exec`, admin, { command }), 200);
  }

  async function audit(action: string, sessionId: string): Promise<AuditEvent[]> {
    const page = await expectJson<Page<AuditEvent>>(
      await api().get(`/api/audit-events?action=${action}&limit=100`, admin),
      200,
    );
    return page.items.filter((event) => event.sessionId === sessionId);
  }

  before(async () => {
    cp = await startControlPlane({ listen: true });
    admin = { cookie: await loginCookie(cp.app) };
    const devices = devicesApi(cp, admin);
    groupId = (await devices.createGroup('Servers')).id;
    await setPolicy(policyWith({ allowed: true, roles: ['admin'], notifyUser: false }));
    root = mkdtempSync(join(tmpdir(), 'lifeline-root-'));
    const key = await devices.issueKey(groupId);
    const installed = await agentCommand(['install', '--key', key, '--server', cp.url, '--root', root]);
    assert.equal(installed.code, 0, installed.output);
    deviceId = JSON.parse(readFileSync(installLayout(root).credentials, 'utf8')).deviceId;
    // The drop-in an administrator would write to show notices; tmux stands in for the user's display.
    service = startAsSystemd(installLayout(root).unitFile, {
      [NOTICE_COMMAND_ENV]: JSON.stringify([
        'tmux',
        '-L',
        NOTICE_SOCKET,
        'new-session',
        '-d',
        '-x',
        '160',
        '-y',
        '40',
      ]),
    });
    await waitFor('the device online', async () => (await devices.get(deviceId)).status === 'online');
  });

  after(async () => {
    await browser?.close();
    await service?.kill();
    try {
      execFileSync('tmux', ['-L', NOTICE_SOCKET, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // No notice server was started.
    }
    await cp?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("a shell command runs as the service's user, in a session without a screen, and the user sees nothing", async () => {
    const session = await open();
    assert.equal(session.access, 'background');
    assert.equal(session.deviceId, deviceId);
    assert.deepEqual(session.policy.modes, {
      view: false,
      control: false,
      chat: false,
      clipboard: false,
      files: true,
      shell: true,
    });
    const result = await exec(session.id, 'whoami');
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout.trim(), userInfo().username);
    assert.equal(noticeScreen(), undefined, 'no notice was opened');
    await end(session.id);
  });

  it('a file goes up and comes back byte for byte, and is on the device', async () => {
    const session = await open();
    const bytes = randomBytes(300_000);
    const folder = mkdtempSync(join(tmpdir(), 'lifeline-bg-'));
    // The files panel is rooted at / for a service running as root: paths are relative to it.
    const path = join(folder, 'payload.bin').slice(1);
    // A real HTTP upload (the in-process client sends JSON): a body with its Content-Length.
    const stored = await fetch(
      `${cp.url}/api/sessions/${session.id}/files/content?path=${encodeURIComponent(path)}`,
      {
        method: 'PUT',
        headers: { cookie: (admin as { cookie: string }).cookie, 'content-type': 'application/octet-stream' },
        body: bytes,
      },
    );
    assert.equal(stored.status, 201, await stored.clone().text());
    assert.deepEqual(readFileSync(`/${path}`), bytes);
    const back = await api().get(
      `/api/sessions/${session.id}/files/content?path=${encodeURIComponent(path)}`,
      admin,
    );
    assert.equal(back.status, 200);
    assert.deepEqual(Buffer.from(await back.arrayBuffer()), bytes);
    const missing = await api().get(
      `/api/sessions/${session.id}/files/content?path=${encodeURIComponent(`${path}.missing`)}`,
      admin,
    );
    assert.equal(missing.status, 404);

    await end(session.id);
    const files = await waitFor('the file events', async () => {
      const events = await audit('background_access_file', session.id);
      return events.length >= 3 ? events : undefined;
    });
    const outcomes = files.map((e) => [e.details?.['operation'], e.details?.['path'], e.details?.['result']]);
    assert.deepEqual(
      outcomes.sort(),
      [
        ['download', `${path}.missing`, 'FILE_NOT_FOUND'],
        ['download', path, 'ok'],
        ['upload', path, 'ok'],
      ].sort(),
    );
    rmSync(folder, { recursive: true, force: true });
  });

  it('the session start, each command line (masked) and the end are audited with JumpCloud kinds', async () => {
    const session = await open();
    await exec(session.id, 'mysql -u root -phunter2 shop; echo done');
    await end(session.id);
    const [start] = await audit('remote_session_start', session.id);
    assert.equal(start?.details?.['deviceId'], deviceId);
    assert.equal(start?.details?.['access'], 'background');
    const shell = await audit('background_access_shell', session.id);
    assert.deepEqual(
      shell.map((e) => e.details?.['command']),
      ['mysql -u root -p*** shop; echo done'],
    );
    assert.doesNotMatch(JSON.stringify(shell), /hunter2/);
    const [ended] = await waitFor('the end event', async () => {
      const events = await audit('remote_session_end', session.id);
      return events.length ? events : undefined;
    });
    assert.equal(ended?.details?.['reason'], 'operator-ended');
  });

  it('an operator whose role the policy does not name is refused with 403 POLICY_FORBIDS', async () => {
    const me = await expectJson<{ operator: { organisationId: string } }>(
      await api().get('/api/auth/me', admin),
      200,
    );
    const technician = await createOperator(api(), admin, {
      username: 'tech',
      role: 'technician',
      organisationId: me.operator.organisationId,
    });
    const problem = await assertProblem(
      await api().post(`/api/devices/${deviceId}/background-access`, { cookie: technician.cookie }),
      403,
      'POLICY_FORBIDS',
    );
    assert.match(problem.detail ?? '', /technician/);
  });

  it('a megabyte pasted into a terminal arrives whole, the shell stays usable, and its audit stays small', async () => {
    const session = await open();
    const { operator, welcome } = await joinOperator(cp, session.id, (admin as { cookie: string }).cookie);
    try {
      await expectJson(await api().get(`/api/sessions/${session.id}/wait?until=active`, admin), 200);
      const channel = channelId(welcome.slot!, 1);
      operator.send({ type: 'shell-open', channel, cols: 120, rows: 40 });
      await operator.next('shell-opened', 0, 20_000);
      const type = (text: string) =>
        operator.sendBytes(
          encodeShellData({ channel, stream: ShellStream.terminal, data: new TextEncoder().encode(text) }),
        );
      const output = () =>
        Buffer.concat(
          operator.received
            .map((r) => r.frame)
            .filter((f) => f?.kind === 'shell' && f.channel === channel)
            .map((f) => (f as { data: Uint8Array }).data),
        ).toString();
      const folder = mkdtempSync(join(tmpdir(), 'lifeline-bg-paste-'));
      const pasted = join(folder, 'pasted.txt');
      await type(`cat > ${pasted}\r`);
      const megabyte = `${'x'.repeat(63)}\n`.repeat(16_384);
      // As the console sends a paste: frames of at most MAX_SHELL_BYTES.
      for (let at = 0; at < megabyte.length; at += MAX_SHELL_BYTES)
        await type(megabyte.slice(at, at + MAX_SHELL_BYTES));
      await type('\x04');
      await waitFor('the pasted megabyte on the device', () => readIfExists(pasted) === megabyte, 90_000);
      await type('echo "after=$((40+2))"\r');
      await waitFor('the shell to answer after the paste', () => /after=42\r?\n/.test(output()), 60_000);
      const events = await audit('background_access_shell', session.id);
      assert.ok(events.length < 100, `the paste is audited in a few dozen events, not ${events.length}`);
      assert.ok(
        events.some((e) => typeof e.details?.['linesNotListed'] === 'number'),
        'the lines past the burst are counted',
      );
      rmSync(folder, { recursive: true, force: true });
    } finally {
      operator.ws.close();
      await end(session.id);
    }
  });

  it('a group whose policy does not allow background access is refused with 403 POLICY_FORBIDS', async () => {
    await setPolicy(policyWith({ allowed: false, roles: ['admin'], notifyUser: false }));
    try {
      await assertProblem(
        await api().post(`/api/devices/${deviceId}/background-access`, admin),
        403,
        'POLICY_FORBIDS',
      );
    } finally {
      await setPolicy(policyWith({ allowed: true, roles: ['admin'], notifyUser: false }));
    }
  });

  it('with notifyUser the user gets a visible notice naming the operator, and sees every command', async () => {
    await setPolicy(policyWith({ allowed: true, roles: ['admin'], notifyUser: true }));
    try {
      const session = await open();
      await exec(session.id, 'echo hello-from-the-help-desk');
      const screen = await waitFor('the notice', () => {
        const text = noticeScreen();
        return text?.includes('runs a command') ? text : undefined;
      });
      assert.match(screen, /has opened a background session on this computer/);
      assert.match(screen, /files and shell, no screen sharing/);
      assert.match(screen, /echo hello-from-the-help-desk/);
      await end(session.id);
      await waitFor('the notice closed with the session', () => noticeScreen() === undefined);
    } finally {
      await setPolicy(policyWith({ allowed: true, roles: ['admin'], notifyUser: false }));
    }
  });

  it('the Devices page opens background access: the session page without a screen, a real shell and files', async () => {
    browser = await launchConsoleBrowser();
    const view = await openConsole(browser, cp);
    const { page } = view;
    await signIn(page, cp);
    await page.click('[data-testid=nav-devices]');
    await page.click('[data-testid=device-row][data-status=online] [data-testid=device-background-access]');
    await page.waitForSelector('[data-access=background] [data-testid=background-access]', {
      timeout: 30_000,
    });
    assert.equal(await page.isVisible('[data-testid=screen]'), false, 'no screen is shown');

    // The terminal panel is open from the start; its shell is the device's, as the service's user.
    await page.waitForSelector('[data-testid=terminal-pane][data-status=open]', { timeout: 30_000 });
    await page.click('[data-testid=terminal-screen]');
    await page.keyboard.type('echo "user=$(whoami)"\n');
    const expected = `user=${userInfo().username}`;
    await page.waitForFunction(
      (text) =>
        [...document.querySelectorAll('[data-testid=terminal-screen] .xterm-rows > div')].some(
          (row) => row.textContent?.trim() === text,
        ),
      expected,
      { timeout: 20_000 },
    );

    // The files panel: up into a fresh folder, then back down, byte for byte.
    const folder = mkdtempSync(join(tmpdir(), 'lifeline-bg-console-'));
    const bytes = randomBytes(200_000);
    const source = join(mkdtempSync(join(tmpdir(), 'lifeline-bg-source-')), 'report.bin');
    writeFileSync(source, bytes);
    await page.click('[data-testid=tool-files]');
    for (const name of folder.split('/').filter(Boolean)) {
      await page.click(`[data-testid=file-row][data-name="${name}"] [data-testid=file-open]`);
    }
    await page.setInputFiles('[data-testid=upload-input]', source);
    await page.waitForSelector('[data-testid=transfer][data-status=done]', { timeout: 30_000 });
    assert.deepEqual(readFileSync(join(folder, 'report.bin')), bytes);
    const downloading = page.waitForEvent('download');
    await page.click('[data-testid=file-row][data-name="report.bin"] [data-testid=file-download]');
    assert.deepEqual(readFileSync((await (await downloading).path())!), bytes);
    assert.deepEqual(view.problems, []);

    const [session] = (
      await expectJson<Page<{ id: string; access: string | null; status: string }>>(
        await api().get('/api/sessions?status=active', admin),
        200,
      )
    ).items.filter((s) => s.access === 'background');
    assert.ok(session, 'the background session is active');
    const typed = await waitFor('the typed line audited', async () => {
      const events = await audit('background_access_shell', session.id);
      return events.find((e) => e.details?.['via'] === 'terminal');
    });
    assert.equal(typed.details?.['command'], 'echo "user=$(whoami)"');
    await end(session.id);
    rmSync(folder, { recursive: true, force: true });
    rmSync(dirname(source), { recursive: true, force: true });
  });
});

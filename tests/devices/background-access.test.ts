import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
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
import { type AuditEvent, assertProblem, type Credentials, expectJson, type Page } from '../support/api.ts';
import { permissionsWith } from '../support/permissions.ts';
import { waitFor } from '../support/processes.ts';
import { devicesApi, useRunningDevice } from './device-support.ts';
import { noticeTmux } from './notice-tmux.ts';

/** The console user's display, where the notices a policy asks for open. */
const desk = noticeTmux('background');

/** Background access as `backgroundAccess` says, with elevation: shells run as the service's user. */
const policyWith = (backgroundAccess: Policy['backgroundAccess']): Policy => ({
  ...DEFAULT_POLICY,
  elevatedTools: true,
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

describe('background access to a resident device', { timeout: 300_000 }, () => {
  const at = useRunningDevice({
    group: 'Servers',
    policy: policyWith({ allowed: true, roles: ['admin'], notifyUser: false }),
    env: desk.env,
  });
  let browser: Browser | undefined;

  const setPolicy = async (policy: Policy) =>
    expectJson(await at.api.put(`/api/groups/${at.device.groupId}/policy`, at.admin, policy), 200);

  /** Opens background access as `who` and waits for the device side to be there. */
  async function open(who: Credentials = at.admin): Promise<SessionView> {
    const { session } = await expectJson<{ session: SessionView }>(
      await at.api.post(`/api/devices/${at.device.deviceId}/background-access`, who),
      201,
    );
    const waited = await expectJson<{ reached: boolean }>(
      await at.api.get(`/api/sessions/${session.id}/wait?until=agent-connected&timeout=30`, who),
      200,
    );
    assert.ok(waited.reached, 'the session host connected');
    return session;
  }

  const end = async (id: string) => expectJson(await at.api.post(`/api/sessions/${id}/end`, at.admin), 200);

  async function exec(sessionId: string, command: string): Promise<{ exitCode: number; stdout: string }> {
    return expectJson(await at.api.post(`/api/sessions/${sessionId}/exec`, at.admin, { command }), 200);
  }

  async function audit(action: string, sessionId: string): Promise<AuditEvent[]> {
    const events = await devicesApi(at.cp, at.admin).audit(action);
    return events.filter((event) => event.sessionId === sessionId);
  }

  after(async () => {
    await browser?.close();
    await desk.clear();
  });

  it("where the policy grants elevation a shell command runs as the service's user, in a session without a screen, and the user sees nothing", async () => {
    const session = await open();
    assert.equal(session.access, 'background');
    assert.equal(session.deviceId, at.device.deviceId);
    assert.deepEqual(session.policy.modes, permissionsWith({ files: true, shell: true }));
    const result = await exec(session.id, 'whoami');
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout.trim(), userInfo().username);
    assert.equal(await desk.screen(), '', 'no notice was opened');
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
      `${at.cp.url}/api/sessions/${session.id}/files/content?path=${encodeURIComponent(path)}`,
      {
        method: 'PUT',
        headers: {
          cookie: (at.admin as { cookie: string }).cookie,
          'content-type': 'application/octet-stream',
        },
        body: bytes,
      },
    );
    assert.equal(stored.status, 201, await stored.clone().text());
    assert.deepEqual(readFileSync(`/${path}`), bytes);
    const back = await at.api.get(
      `/api/sessions/${session.id}/files/content?path=${encodeURIComponent(path)}`,
      at.admin,
    );
    assert.equal(back.status, 200);
    assert.deepEqual(Buffer.from(await back.arrayBuffer()), bytes);
    const missing = await at.api.get(
      `/api/sessions/${session.id}/files/content?path=${encodeURIComponent(`${path}.missing`)}`,
      at.admin,
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
    assert.equal(start?.details?.['deviceId'], at.device.deviceId);
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
    const technician = await at.operator('tech', 'technician');
    const problem = await assertProblem(
      await at.api.post(`/api/devices/${at.device.deviceId}/background-access`, {
        cookie: technician.cookie,
      }),
      403,
      'POLICY_FORBIDS',
    );
    assert.match(problem.detail ?? '', /technician/);
  });

  it('a megabyte pasted into a terminal arrives whole, the shell stays usable, and its audit stays small', async () => {
    const session = await open();
    const { operator, welcome } = await joinOperator(
      at.cp,
      session.id,
      (at.admin as { cookie: string }).cookie,
    );
    try {
      await expectJson(await at.api.get(`/api/sessions/${session.id}/wait?until=active`, at.admin), 200);
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
      for (let offset = 0; offset < megabyte.length; offset += MAX_SHELL_BYTES)
        await type(megabyte.slice(offset, offset + MAX_SHELL_BYTES));
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
        await at.api.post(`/api/devices/${at.device.deviceId}/background-access`, at.admin),
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
      const screen = await waitFor('the notice', async () => {
        const text = await desk.screen();
        return text.includes('runs a command') ? text : undefined;
      });
      assert.match(screen, /has opened a background session on this computer/);
      assert.match(screen, /files and shell, no screen sharing/);
      assert.match(screen, /echo hello-from-the-help-desk/);
      await end(session.id);
      await waitFor('the notice closed with the session', async () => (await desk.screen()) === '');
    } finally {
      await setPolicy(policyWith({ allowed: true, roles: ['admin'], notifyUser: false }));
    }
  });

  it('with a notice terminal that detaches, a second session started while the first runs gets its own host', async () => {
    await setPolicy(policyWith({ allowed: true, roles: ['admin'], notifyUser: true }));
    try {
      // The first host runs on in the tmux server; the second starts in the same server.
      const first = await open();
      const second = await open();
      assert.notEqual(first.id, second.id);
      const result = await exec(second.id, 'echo second-session');
      assert.equal(result.stdout.trim(), 'second-session');
      const environment = await desk.globalEnvironment();
      assert.doesNotMatch(environment, /LIFELINE_SESSION_HOST|token/i, 'no spec in the tmux server');
      await end(first.id);
      await end(second.id);
      await waitFor('the notices closed with the sessions', async () => (await desk.screen()) === '');
    } finally {
      await setPolicy(policyWith({ allowed: true, roles: ['admin'], notifyUser: false }));
    }
  });

  it('the Devices page opens background access: the session page without a screen, a real shell and files', async () => {
    browser = await launchConsoleBrowser();
    const view = await openConsole(browser, at.cp);
    const { page } = view;
    await signIn(page, at.cp);
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
        await at.api.get('/api/sessions?status=active', at.admin),
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

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UNATTENDED_LINGER_ENV } from '../../agent/device/unattended-access.ts';
import { buildAgentExecutable, DEFAULT_OUT_DIR } from '../../build/agent/build-executable.ts';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { devicesApi, enrolDevice, joinDeviceSession } from '../devices/device-support.ts';
import { apiClient, assertProblem, type Credentials, expectJson, freshAddress } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { isAlive, waitFor } from '../support/processes.ts';
import { type PtyProcess, spawnOnPty } from '../support/pty.ts';
import { startWine, type Wine } from '../support/wine.ts';
import { searchWindows } from '../support/x-windows.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

/** How long the Windows build may take on a 2-core CI machine, in ms. */
const BUILD_TIMEOUT_MS = 5 * 60_000;
/** Wine is slow to start a process on a busy machine: every wait here is generous, in ms. */
const WINE_WAIT_MS = 90_000;
/** Where `install` puts the agent and its service host, and its data (windowsLayout). */
const PROGRAM_DIR = 'C:\\Program Files\\Lifeline';
const DATA_DIR = 'C:\\ProgramData\\Lifeline';
/** How long unattended access outlives its last session here, in ms. */
const LINGER_MS = 15_000;
/**
 * Unattended access and offered help for administrators, without elevated tools: the session hosts
 * run as the user at Wine's console, in their session, through the service host's run-in-session.
 */
const DESK_POLICY: Policy = {
  ...DEFAULT_POLICY,
  unattended: { allowed: true, roles: ['admin'], notifyUser: false },
  elevatedTools: false,
};

// The real Windows agent's resident service under Wine, from the installed places (Program Files,
// ProgramData) and as the service host runs it (`lifeline-agent.exe service --data-dir …`), driven
// through the API: its session hosts start in the user's session and get their spec over a pipe
// they inherit, unattended copies are unpacked where the user may run them, the presence proof gets
// permissions of its own. What Wine cannot show (permissions on files) is said where it matters.
describe('session hosts of a Windows device, under Wine', {
  timeout: BUILD_TIMEOUT_MS + 20 * 60_000,
}, () => {
  let xvfb: Xvfb;
  let wine: Wine;
  let cp: TestControlPlane;
  let service: PtyProcess | undefined;
  let notepad: PtyProcess | undefined;
  let oneShot: PtyProcess | undefined;
  let admin: Credentials;
  let deviceId: string;
  const api = () => apiClient(cp);

  /** The agent's session hosts running in the prefix (the copies run-in-session starts, not it). */
  const sessionHosts = () =>
    wine.processes(/session-host/).filter((p) => !/lifeline-service\.exe/i.test(p.commandLine));
  /** The grants' unpacked folders under Program Files. */
  const unpacked = () => {
    const folder = wine.hostPath(`${PROGRAM_DIR}\\unattended`);
    return existsSync(folder) ? readdirSync(folder) : [];
  };
  const serviceOutput = () => service?.output() ?? '';

  before(
    async () => {
      await buildAgentExecutable('win-x64');
      xvfb = await startXvfb({ width: 800, height: 600 });
      wine = await startWine(xvfb.display);
      cp = await startControlPlane({ listen: true });
      admin = { cookie: await loginCookie(cp.app) };
      const devices = devicesApi(cp, admin);
      const group = await devices.createGroup('Windows desks');
      await expectJson(await api().put(`/api/groups/${group.id}/policy`, admin, DESK_POLICY), 200);
      const enrolled = await enrolDevice(cp, await devices.issueKey(group.id), { os: 'not yet reported' });
      deviceId = enrolled.deviceId;
      mkdirSync(wine.hostPath(DATA_DIR), { recursive: true });
      writeFileSync(
        join(wine.hostPath(DATA_DIR), 'device.json'),
        JSON.stringify({ server: cp.url, ...enrolled }),
      );
      mkdirSync(wine.hostPath(PROGRAM_DIR), { recursive: true });
      const executable = `${PROGRAM_DIR}\\lifeline-agent.exe`;
      copyFileSync(join(DEFAULT_OUT_DIR, 'lifeline-agent-win-x64.exe'), wine.hostPath(executable));
      service = spawnOnPty('wine', [executable, 'service', '--data-dir', DATA_DIR], {
        ...wine.env,
        [UNATTENDED_LINGER_ENV]: String(LINGER_MS),
      });
      await waitFor(
        'the Windows device online, naming the user at the console',
        async () => {
          const device = await devices.get(deviceId);
          if (device.status === 'online' && device.reported.consoleUser) return true;
          throw new Error(`${device.status}, ${JSON.stringify(device.reported)}`);
        },
        WINE_WAIT_MS,
        500,
      );
    },
    { timeout: BUILD_TIMEOUT_MS + 8 * 60_000 },
  );

  after(async () => {
    await oneShot?.kill();
    await service?.kill();
    await notepad?.kill();
    await cp?.stop();
    await wine?.stop();
    await xvfb?.stop();
  });

  it("unattended access end to end: the password connects, the host runs from Program Files in the user's session with an inherited report pipe, the operator sees the desktop; after the linger the copy is gone and the password refused", {
    timeout: 6 * WINE_WAIT_MS,
  }, async () => {
    notepad = wine.start('notepad', []);
    await waitFor('notepad on the display', async () => (await searchWindows(xvfb.display, 'Notepad'))[0]);
    const { password } = await expectJson<{ password: string }>(
      await api().post(`/api/devices/${deviceId}/unattended`, admin),
      201,
    );
    assert.ok(password.length >= 12);
    const [grant] = unpacked();
    assert.ok(grant, 'the grant unpacked its host under Program Files\\Lifeline\\unattended');
    const copy = `${PROGRAM_DIR}\\unattended\\${grant}\\lifeline-agent.exe`;
    assert.ok(existsSync(wine.hostPath(copy)), `${copy}, with the suffix Windows runs programs by`);

    const started = await api().post(`/api/devices/${deviceId}/unattended/sessions`, admin, { password });
    const { sessionId } = await expectJson<{ sessionId: string }>(started, 201).catch((error: Error) => {
      throw new Error(`${error.message}\n--- service ---\n${serviceOutput()}`);
    });
    const [host] = sessionHosts();
    assert.ok(host, 'a session host runs');
    // Started from the unpacked copy, in the user's session by the service host, and given no path
    // to connect to: its report channel is descriptor 3, a pipe only it (and its starter) holds.
    assert.ok(host.commandLine.toLowerCase().includes(copy.toLowerCase()), host.commandLine);
    assert.match(host.commandLine, /session-host fd:3$/);
    assert.ok(
      wine.processes(/lifeline-service\.exe"? run-in-session/i).length === 1,
      'run-in-session started it',
    );

    const operator = await joinDeviceSession(cp, admin, sessionId);
    try {
      const consent = await operator.next('consent', 0, WINE_WAIT_MS);
      assert.equal(consent.accepted, true);
      assert.equal(consent.permissions.view, true);
      await operator.until(() => operator.videos().length > 0, "a picture of Wine's desktop", WINE_WAIT_MS);
      operator.send({ type: 'end', reason: 'operator-ended' });
      await operator.waitClosed(WINE_WAIT_MS);
    } finally {
      await operator.close();
    }
    await waitFor('the session host to exit', () => !isAlive(host.pid), WINE_WAIT_MS);
    await waitFor('the grant to expire', () => unpacked().length === 0, LINGER_MS + WINE_WAIT_MS);
    assert.deepEqual(sessionHosts(), [], 'no session host runs');
    await assertProblem(
      await api().post(`/api/devices/${deviceId}/unattended/sessions`, admin, { password }),
      410,
      'UNATTENDED_INACTIVE',
    );
  });

  it('offered help asks the user in a window of its own on the desktop; the user refuses and the session ends cleanly, nothing shown', {
    timeout: 5 * WINE_WAIT_MS,
  }, async () => {
    const offered = await api().post(`/api/devices/${deviceId}/offer-help`, admin, {
      reason: 'your printer queue is stuck',
    });
    const { sessionId } = await expectJson<{ sessionId: string }>(offered, 201).catch((error: Error) => {
      throw new Error(`${error.message}\n--- service ---\n${serviceOutput()}`);
    });
    const [host] = sessionHosts();
    assert.ok(host, 'a session host runs');
    assert.match(host.commandLine, /session-host fd:3$/);
    assert.ok(wine.processes(/lifeline-service\.exe"? open-in-session/i).length === 1, 'open-in-session');
    const operator = await joinDeviceSession(cp, admin, sessionId);
    try {
      // The host's console window, titled by the host (what xdotool finds on Wine's display).
      const [window] = await waitFor(
        'the offer on the display',
        async () => {
          const found = await searchWindows(xvfb.display, '^Lifeline');
          return found.length > 0 ? found : undefined;
        },
        WINE_WAIT_MS,
        1_000,
      );
      assert.equal(operator.videos().length, 0, 'no picture before consent');
      assert.equal(operator.messages('consent').length, 0);
      // Wait for the question itself (after the operator joined) before answering it.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      await runX('xdotool', ['windowfocus', '--sync', window!, 'key', 'n'], xvfb.display);
      const consent = await operator.next('consent', 0, WINE_WAIT_MS);
      assert.equal(consent.accepted, false);
      await operator.waitClosed(WINE_WAIT_MS);
      assert.equal(operator.videos().length, 0, 'nothing was shown');
    } finally {
      await operator.close();
    }
    await waitFor('the session host to exit', () => !isAlive(host.pid), WINE_WAIT_MS);
    const view = await expectJson<{ status: string }>(
      await api().get(`/api/sessions/${sessionId}`, admin),
      200,
    );
    assert.equal(view.status, 'ended');
  });

  it('the presence proof is written for Users to read; a one-shot agent does not trust one Wine reports as owned by the user (Wine keeps no permissions on files)', {
    timeout: 4 * WINE_WAIT_MS,
  }, async () => {
    const presence = wine.hostPath(`${DATA_DIR}\\presence`);
    const proof = await waitFor('the presence proof', () =>
      existsSync(presence) ? readFileSync(presence, 'utf8').trim() : undefined,
    );
    assert.match(proof, /^[\w-]{43}$/);
    // Under Wine the service host's `protect` succeeds but Wine stores no descriptor on the file:
    // `security` reports the Wine user as its owner, as for a file that user planted there.
    const response = await fetch(`${cp.url}/download/agent/win-x64`);
    assert.equal(response.status, 200);
    const downloaded = 'C:\\Downloads\\lifeline-agent-win-x64.exe';
    mkdirSync(wine.hostPath('C:\\Downloads'), { recursive: true });
    writeFileSync(wine.hostPath(downloaded), Buffer.from(await response.arrayBuffer()));
    oneShot = wine.start(downloaded, ['--accept']);
    await waitFor(
      'the one-shot agent to show a code',
      () => /\d{3} \d{3} \d{3}/.test(oneShot!.output()),
      WINE_WAIT_MS,
    );
    const [session] = (
      await expectJson<{ items: { id: string; deviceId: string | null }[] }>(
        await api().get('/api/sessions?limit=1', admin),
        200,
      )
    ).items;
    assert.equal(session?.deviceId ?? null, null, 'not linked by a proof it cannot trust');
    // The proof itself was live: registered by anyone who holds it, it links.
    const current = readFileSync(presence, 'utf8').trim();
    const registered = await expectJson<{ sessionId: string }>(
      await api().post(
        '/api/agent/register',
        undefined,
        { name: 'lifeline-agent', version: '0.1.0', hostname: 'desk', presence: current },
        { address: freshAddress() },
      ),
      201,
    );
    const linked = await expectJson<{ deviceId: string | null }>(
      await api().get(`/api/sessions/${registered.sessionId}`, admin),
      200,
    );
    assert.equal(linked.deviceId, deviceId);
  });
});

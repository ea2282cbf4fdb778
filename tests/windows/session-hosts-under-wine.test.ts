import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { UNATTENDED_LINGER_ENV } from '../../agent/device/unattended-access.ts';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { joinDeviceSession } from '../devices/device-support.ts';
import { apiClient, assertProblem, expectJson, freshAddress } from '../support/api.ts';
import { isAlive, waitFor } from '../support/processes.ts';
import type { PtyProcess } from '../support/pty.ts';
import { searchWindows } from '../support/x-windows.ts';
import { runX } from '../support/xvfb.ts';
import {
  RESIDENT_START_TIMEOUT_MS,
  type ResidentUnderWine,
  startResidentUnderWine,
  WINE_WAIT_MS,
} from './resident-under-wine.ts';

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
  timeout: RESIDENT_START_TIMEOUT_MS + 15 * 60_000,
}, () => {
  let at: ResidentUnderWine;
  let notepad: PtyProcess | undefined;
  let oneShot: PtyProcess | undefined;
  const api = () => apiClient(at.cp);

  /** The agent's session hosts running in the prefix (the copies run-in-session starts, not it). */
  const sessionHosts = () =>
    at.wine.processes(/session-host/).filter((p) => !/lifeline-service\.exe/i.test(p.commandLine));
  /** The grants' unpacked folders under Program Files. */
  const unpacked = () => {
    const folder = at.wine.hostPath(`${PROGRAM_DIR}\\unattended`);
    return existsSync(folder) ? readdirSync(folder) : [];
  };
  const serviceOutput = () => at.service.output();

  before(
    async () => {
      at = await startResidentUnderWine({
        policy: DESK_POLICY,
        programDir: PROGRAM_DIR,
        dataDir: DATA_DIR,
        env: { [UNATTENDED_LINGER_ENV]: String(LINGER_MS) },
      });
    },
    { timeout: RESIDENT_START_TIMEOUT_MS },
  );

  after(async () => {
    await oneShot?.kill();
    await notepad?.kill();
    await at?.stop();
  });

  it("unattended access end to end: the password connects, the host runs from Program Files in the user's session with an inherited report pipe, the operator sees the desktop; after the linger the copy is gone and the password refused", {
    timeout: 6 * WINE_WAIT_MS,
  }, async () => {
    notepad = at.wine.start('notepad', []);
    await waitFor('notepad on the display', async () => (await searchWindows(at.xvfb.display, 'Notepad'))[0]);
    const { password } = await expectJson<{ password: string }>(
      await api().post(`/api/devices/${at.deviceId}/unattended`, at.admin),
      201,
    );
    assert.ok(password.length >= 12);
    const [grant] = unpacked();
    assert.ok(grant, 'the grant unpacked its host under Program Files\\Lifeline\\unattended');
    const copy = `${PROGRAM_DIR}\\unattended\\${grant}\\lifeline-agent.exe`;
    assert.ok(existsSync(at.wine.hostPath(copy)), `${copy}, with the suffix Windows runs programs by`);

    const started = await api().post(`/api/devices/${at.deviceId}/unattended/sessions`, at.admin, {
      password,
    });
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
      at.wine.processes(/lifeline-service\.exe"? run-in-session/i).length === 1,
      'run-in-session started it',
    );

    const operator = await joinDeviceSession(at.cp, at.admin, sessionId);
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
      await api().post(`/api/devices/${at.deviceId}/unattended/sessions`, at.admin, { password }),
      410,
      'UNATTENDED_INACTIVE',
    );
  });

  it('offered help asks the user in a window of its own on the desktop; the user refuses and the session ends cleanly, nothing shown', {
    timeout: 5 * WINE_WAIT_MS,
  }, async () => {
    const offered = await api().post(`/api/devices/${at.deviceId}/offer-help`, at.admin, {
      reason: 'your printer queue is stuck',
    });
    const { sessionId } = await expectJson<{ sessionId: string }>(offered, 201).catch((error: Error) => {
      throw new Error(`${error.message}\n--- service ---\n${serviceOutput()}`);
    });
    const [host] = sessionHosts();
    assert.ok(host, 'a session host runs');
    assert.match(host.commandLine, /session-host fd:3$/);
    assert.ok(at.wine.processes(/lifeline-service\.exe"? open-in-session/i).length === 1, 'open-in-session');
    const operator = await joinDeviceSession(at.cp, at.admin, sessionId);
    try {
      // The host's console window, titled by the host (what xdotool finds on Wine's display).
      const [window] = await waitFor(
        'the offer on the display',
        async () => {
          const found = await searchWindows(at.xvfb.display, '^Lifeline');
          return found.length > 0 ? found : undefined;
        },
        WINE_WAIT_MS,
        1_000,
      );
      assert.equal(operator.videos().length, 0, 'no picture before consent');
      assert.equal(operator.messages('consent').length, 0);
      // The user says no: pressed again until the question (asked once the operator joined) hears it.
      const consent = await waitFor(
        'the refusal to reach the operator',
        async () => {
          const answered = operator.messages('consent')[0];
          if (answered) return answered;
          // Gone once the refusal is taken: the answer is then on its way.
          await runX('xdotool', ['windowfocus', '--sync', window!, 'key', 'n'], at.xvfb.display).catch(
            () => {},
          );
          return undefined;
        },
        WINE_WAIT_MS,
        2_000,
      );
      assert.equal(consent.accepted, false);
      await operator.waitClosed(WINE_WAIT_MS);
      assert.equal(operator.videos().length, 0, 'nothing was shown');
    } finally {
      await operator.close();
    }
    await waitFor('the session host to exit', () => !isAlive(host.pid), WINE_WAIT_MS);
    const view = await expectJson<{ status: string }>(
      await api().get(`/api/sessions/${sessionId}`, at.admin),
      200,
    );
    assert.equal(view.status, 'ended');
  });

  it('the presence proof is written for Users to read; a one-shot agent does not trust one Wine reports as owned by the user (Wine keeps no permissions on files)', {
    timeout: 4 * WINE_WAIT_MS,
  }, async () => {
    const presence = at.wine.hostPath(`${DATA_DIR}\\presence`);
    const proof = await waitFor('the presence proof', () =>
      existsSync(presence) ? readFileSync(presence, 'utf8').trim() : undefined,
    );
    assert.match(proof, /^[\w-]{43}$/);
    // Under Wine the service host's `protect` succeeds but Wine stores no descriptor on the file:
    // `security` reports the Wine user as its owner, as for a file that user planted there.
    const response = await fetch(`${at.cp.url}/download/agent/win-x64`);
    assert.equal(response.status, 200);
    const downloaded = 'C:\\Downloads\\lifeline-agent-win-x64.exe';
    mkdirSync(at.wine.hostPath('C:\\Downloads'), { recursive: true });
    writeFileSync(at.wine.hostPath(downloaded), Buffer.from(await response.arrayBuffer()));
    oneShot = at.wine.start(downloaded, ['--accept']);
    await waitFor(
      'the one-shot agent to show a code',
      () => /\d{3} \d{3} \d{3}/.test(oneShot!.output()),
      WINE_WAIT_MS,
    );
    const [session] = (
      await expectJson<{ items: { id: string; deviceId: string | null }[] }>(
        await api().get('/api/sessions?limit=1', at.admin),
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
      await api().get(`/api/sessions/${registered.sessionId}`, at.admin),
      200,
    );
    assert.equal(linked.deviceId, at.deviceId);
  });
});

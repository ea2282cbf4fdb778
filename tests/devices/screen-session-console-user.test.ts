import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { assertProblem, expectJson } from '../support/api.ts';
import { childrenOf, waitFor } from '../support/processes.ts';
import { useConsoleUser } from './console-login.ts';
import { devicesApi, joinDeviceSession, useRunningDevice } from './device-support.ts';
import { noticeTmux } from './notice-tmux.ts';

/** Unattended access for administrators, the user not told, and no elevation for anyone. */
const POLICY: Policy = {
  ...DEFAULT_POLICY,
  elevatedTools: false,
  unattended: { allowed: true, roles: ['admin'], notifyUser: false },
};

/** The real uid a process runs as (`Uid:` of /proc/PID/status). */
const uidOf = (pid: number) =>
  Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

interface SessionView {
  agent: { user?: string } | null;
}

describe('unattended screen sessions without elevation', { timeout: 300_000 }, () => {
  const at = useRunningDevice({ group: 'Unattended desks', policy: POLICY, display: true });
  const user = useConsoleUser();

  const start = async () =>
    (
      await expectJson<{ password: string }>(
        await at.api.post(`/api/devices/${at.device.deviceId}/unattended`, at.admin),
        201,
      )
    ).password;
  const connect = async (password: string) =>
    at.api.post(`/api/devices/${at.device.deviceId}/unattended/sessions`, at.admin, { password });

  it('runs as the user logged in at the display, and the session says so', async () => {
    // Logged in at the test's X display, as a graphical seat shows in `who`.
    user.logIn(at.xvfb.display);
    const { sessionId, runsAs } = await expectJson<{
      sessionId: string;
      runsAs?: { user: string; elevated: boolean };
    }>(await connect(await start()), 201);
    assert.deepEqual(runsAs, { user: user.name, elevated: false });
    const view = await expectJson<SessionView>(await at.api.get(`/api/sessions/${sessionId}`, at.admin), 200);
    assert.equal(view.agent?.user, user.name, "the session's device side names its user");

    const operator = await joinDeviceSession(at.cp, at.admin, sessionId);
    try {
      const consent = await operator.next('consent', 0, 20_000);
      assert.equal(consent.accepted, true);
      await operator.until(() => operator.videos().length > 0, 'a picture of the screen', 20_000);
      const host = childrenOf(at.device.service.child.pid!).find((child) => child.command !== 'ffmpeg');
      assert.ok(host, 'the session host runs');
      assert.equal(uidOf(host.pid), user.uid(), 'the host runs as the console user');
      const capture = await waitFor('the screen capture', () =>
        childrenOf(host.pid).find((child) => child.command === 'ffmpeg'),
      );
      assert.equal(uidOf(capture.pid), user.uid(), 'the screen is captured as the console user');
      const shell = await expectJson<{ exitCode: number; stdout: string }>(
        await at.api.post(`/api/sessions/${sessionId}/exec`, at.admin, { command: 'echo "$(id -un) $HOME"' }),
        200,
      );
      assert.equal(shell.stdout.trim(), `${user.name} ${user.home()}`);
      operator.send({ type: 'end', reason: 'operator-ended' });
      await operator.waitClosed(10_000);
    } finally {
      await operator.close();
    }
  });

  it('is refused with NOT_SUPPORTED, and audited, while nobody is logged in', async () => {
    user.logOutAll();
    const problem = await assertProblem(await connect(await start()), 409, 'NOT_SUPPORTED');
    assert.match(problem.detail ?? '', /Nobody is logged in .*unattended access runs as the console user/);
    const [failed] = await devicesApi(at.cp, at.admin).audit('device.unattended-connect-failed');
    assert.match(JSON.stringify(failed?.details), /NOT_SUPPORTED/);
  });
});

/** The user's desktop: the offer's terminal opens in it. */
const desk = noticeTmux('offer-as-user');

describe('offered help without elevation', { timeout: 300_000 }, () => {
  const at = useRunningDevice({
    group: 'Offered desks',
    policy: { ...DEFAULT_POLICY, elevatedTools: false },
    env: desk.env,
    display: true,
  });
  const user = useConsoleUser();

  it('the host asks and then shares the screen as the user logged in at the display', async () => {
    user.logIn(at.xvfb.display);
    const { sessionId, runsAs } = await expectJson<{
      sessionId: string;
      runsAs?: { user: string; elevated: boolean };
    }>(
      await at.api.post(`/api/devices/${at.device.deviceId}/offer-help`, at.admin, { reason: 'a check' }),
      201,
    );
    assert.deepEqual(runsAs, { user: user.name, elevated: false });
    const operator = await joinDeviceSession(at.cp, at.admin, sessionId);
    try {
      await waitFor('the offer on the device', async () => /wants to connect/.test(await desk.screen()));
      const [host] = await desk.pids();
      assert.ok(host, 'the session host has a terminal');
      assert.equal(uidOf(host), user.uid(), 'the host runs as the console user');
      await desk.press('Enter');
      const consent = await operator.next('consent', 0, 10_000);
      assert.equal(consent.accepted, true);
      await operator.until(() => operator.videos().length > 0, 'a picture of the screen', 20_000);
      const capture = await waitFor('the screen capture', () =>
        childrenOf(host).find((child) => child.command === 'ffmpeg'),
      );
      assert.equal(uidOf(capture.pid), user.uid(), 'the screen is captured as the console user');
      operator.send({ type: 'end', reason: 'operator-ended' });
      await operator.waitClosed(10_000);
    } finally {
      await operator.close();
      await desk.clear();
    }
  });
});

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { UNATTENDED_LINGER_ENV } from '../../agent/device/unattended-access.ts';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import type { Credentials } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { isAlive, waitFor } from '../support/processes.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';
import { connectUnattended, runningDevice } from './device-support.ts';
import { noticeTmux } from './notice-tmux.ts';

/** Unattended access for administrators, the user told. */
const TOLD_POLICY: Policy = {
  ...DEFAULT_POLICY,
  unattended: { allowed: true, roles: ['admin'], notifyUser: true },
  // Nobody is logged in at the test display (`who` names nobody): the host runs as the service's user
  // (root), which takes the policy's elevation.
  elevatedTools: true,
};
/** How long access outlives its last session here, in milliseconds (long enough to connect in). */
const LINGER_MS = 6_000;

/**
 * The user's desktop is a tmux server: its `new-session -d` returns at once while the session host
 * runs on inside it, as any notice command that detaches does.
 */
const desk = noticeTmux('detached');

describe('unattended access with a notice terminal that detaches', { timeout: 300_000 }, () => {
  let cp: TestControlPlane;
  let admin: Credentials;
  let xvfb: Xvfb;
  let device: Awaited<ReturnType<typeof runningDevice>>;

  /** The folders grants unpacked their session host into that still exist. */
  const unpacked = () => {
    const folder = join(device.layout.workDir, 'unattended');
    return existsSync(folder) ? readdirSync(folder) : [];
  };

  before(async () => {
    xvfb = await startXvfb({ width: 800, height: 600 });
    await runX('xsetroot', ['-solid', '#2060c0'], xvfb.display);
    cp = await startControlPlane({ listen: true });
    admin = { cookie: await loginCookie(cp.app) };
    device = await runningDevice(cp, admin, {
      group: 'Detached notices',
      policy: TOLD_POLICY,
      env: { DISPLAY: xvfb.display, ...desk.env, [UNATTENDED_LINGER_ENV]: String(LINGER_MS) },
    });
  });

  after(async () => {
    await desk.clear();
    await device?.remove();
    await cp?.stop();
    await xvfb?.stop();
  });

  it('access does not expire while the session runs, and expires after it ends', async () => {
    const operator = await connectUnattended(cp, admin, device.deviceId);
    try {
      await waitFor('the notice on the device', async () => /has opened/.test(await desk.screen()));
      const [host] = await desk.pids();
      assert.ok(host, 'the session host runs in the notice terminal');
      // The notice command itself ended long ago; the session did not.
      await sleep(LINGER_MS + 2_000);
      assert.equal(unpacked().length, 1, 'the grant and its session host are still there');
      assert.ok(isAlive(host), 'the session host still runs');
      assert.doesNotMatch(device.service.output(), /unattended-end/);

      operator.send({ type: 'end', reason: 'operator-ended' });
      await operator.waitClosed(10_000);
      await waitFor(
        'the grant to expire after the session',
        () => unpacked().length === 0,
        LINGER_MS + 15_000,
      );
      assert.match(device.service.output(), /"event":"unattended-end"[^\n]*"why":"expired"/);
    } finally {
      await operator.close();
    }
  });
});

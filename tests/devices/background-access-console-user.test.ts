import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { assertProblem, expectJson } from '../support/api.ts';
import { useConsoleUser } from './console-login.ts';
import { useRunningDevice } from './device-support.ts';

/** Background access without elevation (`elevatedTools` off): shells and files as the console user. */
const POLICY: Policy = {
  ...DEFAULT_POLICY,
  elevatedTools: false,
  backgroundAccess: { allowed: true, roles: ['admin'], notifyUser: false },
};

/** A folder and file only the console user's supplementary group may read. */
const LEDGER = '/var/tmp/lifeline-ledger';
/** The wire name of the root `/` (its path, URI-encoded). */
const SLASH = encodeURIComponent('/');

describe('background access without elevation', { timeout: 300_000 }, () => {
  const at = useRunningDevice({ group: 'Desks without elevation', policy: POLICY });
  const user = useConsoleUser();
  const USER = user.name;

  const open = () => at.api.post(`/api/devices/${at.device.deviceId}/background-access`, at.admin);

  it('runs the shell and the files as the user logged in at the console, not as root', async () => {
    user.logIn();
    const { session, runsAs } = await expectJson<{
      session: { id: string };
      runsAs?: { user: string; elevated: boolean };
    }>(await open(), 201);
    assert.deepEqual(runsAs, { user: USER, elevated: false }, 'the answer says whose shell it is');
    const waited = await expectJson<{ reached: boolean }>(
      await at.api.get(`/api/sessions/${session.id}/wait?until=agent-connected&timeout=30`, at.admin),
      200,
    );
    assert.ok(waited.reached, `the session host connected: ${at.device.service.output()}`);
    const exec = async (command: string) =>
      expectJson<{ exitCode: number; stdout: string }>(
        await at.api.post(`/api/sessions/${session.id}/exec`, at.admin, { command }),
        200,
      );
    const who = await exec('echo "$(whoami) $(pwd)"');
    const home = user.home();
    assert.equal(who.stdout.trim(), `${USER} ${home}`);
    const root = await exec('touch /root/lifeline-not-allowed');
    assert.notEqual(root.exitCode, 0, 'root-only places stay closed');
    assert.equal(existsSync('/root/lifeline-not-allowed'), false);

    // Files are rooted at the user's home and written as the user.
    const stored = await fetch(`${at.cp.url}/api/sessions/${session.id}/files/content?path=note.txt`, {
      method: 'PUT',
      headers: {
        cookie: (at.admin as { cookie: string }).cookie,
        'content-type': 'application/octet-stream',
      },
      body: 'from the help desk',
    });
    assert.equal(stored.status, 201, await stored.clone().text());
    assert.equal(statSync(`${home}/note.txt`).uid, user.uid());
    rmSync(`${home}/note.txt`, { force: true });
    await expectJson(await at.api.post(`/api/sessions/${session.id}/end`, at.admin), 200);
  });

  /** Opens background access as the console user and waits for its host; its session id. */
  const opened = async () => {
    user.logIn();
    const { session } = await expectJson<{ session: { id: string } }>(await open(), 201);
    await expectJson(
      await at.api.get(`/api/sessions/${session.id}/wait?until=agent-connected&timeout=30`, at.admin),
      200,
    );
    return session.id;
  };
  const exec = async (sessionId: string, command: string) =>
    expectJson<{ exitCode: number; stdout: string; stderr: string }>(
      await at.api.post(`/api/sessions/${sessionId}/exec`, at.admin, { command }),
      200,
    );

  it("has all of the console user's groups: a file only a supplementary group may read is read", async () => {
    rmSync(LEDGER, { recursive: true, force: true });
    mkdirSync(LEDGER, { mode: 0o750 });
    writeFileSync(`${LEDGER}/figures.txt`, 'the ledger\n', { mode: 0o640 });
    execFileSync('chown', ['-R', `root:${user.extraGroup}`, LEDGER]);
    try {
      const sessionId = await opened();
      const read = await exec(sessionId, `id -Gn; cat ${LEDGER}/figures.txt`);
      assert.equal(read.exitCode, 0, read.stderr);
      assert.match(read.stdout, new RegExp(`\\b${user.extraGroup}\\b`));
      assert.match(read.stdout, /the ledger/);
      await expectJson(await at.api.post(`/api/sessions/${sessionId}/end`, at.admin), 200);
    } finally {
      rmSync(LEDGER, { recursive: true, force: true });
    }
  });

  it("offers every mount where the policy's filesAllRoots allows it, read as the console user", async () => {
    const policy = { ...POLICY, filesAllRoots: true };
    await expectJson(await at.api.put(`/api/groups/${at.device.groupId}/policy`, at.admin, policy), 200);
    try {
      const sessionId = await opened();
      const files = (path: string, what = '') =>
        at.api.get(`/api/sessions/${sessionId}/files${what}?path=${encodeURIComponent(path)}`, at.admin);
      const { entries } = await expectJson<{ entries: { name: string }[] }>(await files(''), 200);
      assert.ok(
        entries.some((entry) => entry.name === SLASH),
        `the root / is listed: ${entries.map((e) => e.name)}`,
      );
      const hostname = await files(`${SLASH}/etc/hostname`, '/content');
      assert.equal(hostname.status, 200, 'a file outside the home is read');
      assert.equal(await hostname.text(), readFileSync('/etc/hostname', 'utf8'));
      const shadow = await files(`${SLASH}/etc/shadow`, '/content');
      assert.notEqual(shadow.status, 200, 'what the user may not read stays closed');
      await shadow.body?.cancel();
      await expectJson(await at.api.post(`/api/sessions/${sessionId}/end`, at.admin), 200);
    } finally {
      await expectJson(await at.api.put(`/api/groups/${at.device.groupId}/policy`, at.admin, POLICY), 200);
    }
  });

  it('is refused with NOT_SUPPORTED while nobody is logged in at the console', async () => {
    user.logOutAll();
    const problem = await assertProblem(await open(), 409, 'NOT_SUPPORTED');
    assert.match(problem.detail ?? '', /Nobody is logged in/);
  });
});

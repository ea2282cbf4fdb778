import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_POLICY, type Policy } from '../../protocol/index.ts';
import { assertProblem, expectJson } from '../support/api.ts';
import { useRunningDevice } from './device-support.ts';

/** Background access without elevation (`elevatedTools` off): shells and files as the console user. */
const POLICY: Policy = {
  ...DEFAULT_POLICY,
  elevatedTools: false,
  backgroundAccess: { allowed: true, roles: ['admin'], notifyUser: false },
};

/** The unprivileged user logged in at the device's console (created here when absent). */
const USER = 'lifeline-desk';
/** Where `who` reads who is logged in. */
const UTMP = '/var/run/utmp';

const hasUser = () => {
  try {
    execFileSync('id', [USER], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/**
 * Logs `USER` in at the console's first text terminal, as `who` sees it. utmpdump reads the fields as it
 * writes them: the pid with at least five digits and the time with microseconds (`,123000+00:00`);
 * otherwise it stops at "Extraneous newline" or crashes.
 */
function logInAtConsole(): void {
  const record = `[7] [${String(process.pid).padStart(5, '0')}] [tty7] [${USER}] [tty7        ] [                    ] [0.0.0.0        ] [${new Date().toISOString().replace(/\.(\d{3})Z$/, ',$1000+00:00')}]\n`;
  execFileSync('utmpdump', ['-r', '-o', UTMP], { input: record, stdio: ['pipe', 'ignore', 'ignore'] });
}

describe('background access without elevation', { timeout: 300_000 }, () => {
  const at = useRunningDevice({ group: 'Desks without elevation', policy: POLICY });
  let created = false;
  let utmpBefore: Buffer | undefined;

  before(() => {
    if (!hasUser()) {
      execFileSync('useradd', ['--create-home', '--shell', '/bin/bash', USER]);
      created = true;
    }
    utmpBefore = existsSync(UTMP) ? readFileSync(UTMP) : undefined;
  });

  after(() => {
    if (utmpBefore) execFileSync('cp', ['/dev/stdin', UTMP], { input: utmpBefore });
    else rmSync(UTMP, { force: true });
    if (created) execFileSync('userdel', ['--remove', USER], { stdio: 'ignore' });
  });

  const open = () => at.api.post(`/api/devices/${at.device.deviceId}/background-access`, at.admin);

  it('runs the shell and the files as the user logged in at the console, not as root', async () => {
    logInAtConsole();
    const { session } = await expectJson<{ session: { id: string } }>(await open(), 201);
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
    const home = execFileSync('getent', ['passwd', USER], { encoding: 'utf8' }).trim().split(':')[5];
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
    const uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }));
    assert.equal(statSync(`${home}/note.txt`).uid, uid);
    rmSync(`${home}/note.txt`, { force: true });
    await expectJson(await at.api.post(`/api/sessions/${session.id}/end`, at.admin), 200);
  });

  it('is refused with NOT_SUPPORTED while nobody is logged in at the console', async () => {
    rmSync(UTMP, { force: true });
    const problem = await assertProblem(await open(), 409, 'NOT_SUPPORTED');
    assert.match(problem.detail ?? '', /Nobody is logged in/);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { DEFAULT_POLICY } from '../../protocol/index.ts';
import { connectScript, createScriptSession, spawnAgent } from '../support/agent-process.ts';
import { type ApiClient, apiClient, assertProblem, createToken, expectJson } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { setDefaultGroupPolicy } from '../support/policies.ts';
import type { Spawned } from '../support/processes.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

/** The wire name of the root `/` (its path, URI-encoded). */
const SLASH = encodeURIComponent('/');

/**
 * Every drive or mount as a root (README "Files"): a real agent joins a session of a real control
 * plane, the group's policy and the user's `--files-all-roots` decide together, and a script browses
 * through the HTTP API.
 */
describe('the file manager reaches every root only where the policy and the user allow it', () => {
  let xvfb: Xvfb;
  let cp: TestControlPlane;
  let api: ApiClient;
  let cookie: string;
  let bearer: string;
  let agent: Spawned | undefined;
  const shared = realpathSync(mkdtempSync(join(tmpdir(), 'lifeline-roots-shared-')));
  // Outside the shared folder: reachable only through the root `/`.
  const elsewhere = realpathSync(mkdtempSync(join(tmpdir(), 'lifeline-roots-elsewhere-')));
  const outsideFile = join(elsewhere, 'notes.txt');
  const script = () => ({ token: bearer });

  before(async () => {
    xvfb = await startXvfb({ width: 320, height: 240 });
    cp = await startControlPlane({ listen: true });
    api = apiClient(cp);
    cookie = await loginCookie(cp.app);
    bearer = (await createToken(api, { cookie }, ['sessions:read', 'sessions:write', 'files'], 'roots'))
      .token;
    writeFileSync(join(shared, 'shared.txt'), 'in the shared folder');
    writeFileSync(outsideFile, 'outside the shared folder');
  });

  afterEach(async () => {
    await agent?.kill();
    agent = undefined;
  });

  after(async () => {
    await cp?.stop();
    await xvfb?.stop();
    rmSync(shared, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });

  /**
   * A session with the group's policy set to `filesAllRoots`, its agent run with `args`, connected for
   * files. With `consentKeys`, the user answers the consent screen with those keys (else --accept).
   */
  async function sessionWith(filesAllRoots: boolean, args: string[], consentKeys?: string): Promise<string> {
    await setDefaultGroupPolicy(cp, cookie, { ...DEFAULT_POLICY, filesAllRoots });
    const { sessionId, code } = await createScriptSession(api, script());
    agent = spawnAgent({
      server: cp.url,
      display: xvfb.display,
      code,
      allow: ['files'],
      filesRoot: shared,
      args,
      ...(consentKeys ? { accept: false, keepInput: true } : {}),
    });
    await connectScript(api, script(), sessionId, agent, ['files'], consentKeys);
    return sessionId;
  }

  const list = async (sessionId: string, path: string) =>
    (
      await expectJson<{ entries: { name: string; type: string }[] }>(
        await api.get(`/api/sessions/${sessionId}/files?path=${encodeURIComponent(path)}`, script()),
        200,
      )
    ).entries
      .map((entry) => entry.name)
      .sort();

  const content = (sessionId: string, path: string) =>
    api.get(`/api/sessions/${sessionId}/files/content?path=${encodeURIComponent(path)}`, script());

  it('with the policy and the user granting it, the roots are listed and a file outside the shared folder is read', async () => {
    const sessionId = await sessionWith(true, ['--files-all-roots']);
    const roots = await list(sessionId, '');
    assert.ok(roots.includes(SLASH), `the root / is listed: ${roots.join(', ')}`);
    assert.ok(!roots.includes('shared.txt'), 'the top level lists roots, not the shared folder');
    const read = await content(sessionId, `${SLASH}${outsideFile}`);
    assert.equal(read.status, 200);
    assert.equal(await read.text(), 'outside the shared folder');
    assert.deepEqual(await list(sessionId, `${SLASH}${elsewhere}`), ['notes.txt']);
  });

  it('the user grants every root on the consent screen with its own key; without it, the shared folder only', async () => {
    let sessionId = await sessionWith(true, [], 'fd\r');
    assert.match(agent!.output(), /\[d\] \[ \] files on every drive/, 'offered, off by default');
    assert.ok((await list(sessionId, '')).includes(SLASH));
    assert.equal(
      await (await content(sessionId, `${SLASH}${outsideFile}`)).text(),
      'outside the shared folder',
    );
    await agent?.kill();
    sessionId = await sessionWith(true, [], 'f\r');
    assert.deepEqual(await list(sessionId, ''), ['shared.txt']);
  });

  it('a policy that does not allow every root offers no key for it on the consent screen', async () => {
    const sessionId = await sessionWith(false, [], 'fd\r');
    assert.doesNotMatch(agent!.output(), /every drive/);
    assert.deepEqual(await list(sessionId, ''), ['shared.txt']);
  });

  it('a path escaping a root, or naming no root, is refused with PATH_OUTSIDE_FOLDER', async () => {
    const sessionId = await sessionWith(true, ['--files-all-roots']);
    for (const path of [`${SLASH}/../etc/hostname`, '/etc/hostname', 'etc/hostname', 'shared.txt']) {
      await assertProblem(await content(sessionId, path), 403, 'PATH_OUTSIDE_FOLDER');
    }
  });

  it('a policy that does not allow every root keeps the shared folder the only root, even when the user grants it', async () => {
    const sessionId = await sessionWith(false, ['--files-all-roots']);
    assert.deepEqual(await list(sessionId, ''), ['shared.txt']);
    await assertProblem(await content(sessionId, `${SLASH}${outsideFile}`), 404, 'FILE_NOT_FOUND');
  });

  it('a user who does not grant every root keeps the shared folder the only root, whatever the policy', async () => {
    const sessionId = await sessionWith(true, []);
    assert.deepEqual(await list(sessionId, ''), ['shared.txt']);
    await assertProblem(await content(sessionId, `${SLASH}${outsideFile}`), 404, 'FILE_NOT_FOUND');
  });
});

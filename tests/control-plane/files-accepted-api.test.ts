import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectScript, createScriptSession, spawnAgent } from '../support/agent-process.ts';
import { type ApiClient, apiClient, createToken, expectJson } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

/**
 * A script uploads through the HTTP API into an attended session: the real agent asks its user, and
 * the script's answer is theirs (the name they chose, or 403 REFUSED_BY_USER), not a silent success.
 */
describe('a script uploading into an attended session gets the end user’s answer', () => {
  let xvfb: Xvfb;
  let cp: TestControlPlane;
  let api: ApiClient;
  let bearer: string;
  let agent: Spawned | undefined;
  let sessionId: string;
  const shared = realpathSync(mkdtempSync(join(tmpdir(), 'lifeline-api-accept-')));

  before(async () => {
    xvfb = await startXvfb({ width: 640, height: 480 });
    cp = await startControlPlane({ listen: true });
    api = apiClient(cp);
    const admin = { cookie: await loginCookie(cp.app) };
    bearer = (await createToken(api, admin, ['sessions:read', 'sessions:write', 'files'], 'uploader')).token;
  });

  after(async () => {
    await agent?.kill();
    await cp?.stop();
    await xvfb?.stop();
    rmSync(shared, { recursive: true, force: true });
  });

  /** `PUT /files/content` as curl -T sends it. */
  const put = (path: string, data: Uint8Array) =>
    cp.app.request(`/api/sessions/${sessionId}/files/content?path=${encodeURIComponent(path)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${bearer}`, 'content-length': String(data.byteLength) },
      body: new Uint8Array(data),
    });
  const asked = (name: string) => `to be saved as ${join(shared, name)}`;

  it('the user accepts the script with files allowed', async () => {
    const script = { token: bearer };
    const created = await createScriptSession(api, script);
    sessionId = created.sessionId;
    agent = spawnAgent({
      server: cp.url,
      display: xvfb.display,
      code: created.code,
      filesRoot: shared,
      accept: false,
      keepInput: true,
    });
    await connectScript(api, script, sessionId, agent, ['files'], 'f\r');
  });

  it('an upload the user accepts under another name answers 201 with that name', async () => {
    const data = randomBytes(200_000);
    const answer = put('upload.bin', data);
    await waitFor('the user to be asked', () => agent!.output().includes(asked('upload.bin')));
    agent!.child.stdin?.write('r');
    agent!.child.stdin?.write('kept.bin\r');
    await waitFor('the new name', () => agent!.output().includes(asked('kept.bin')));
    agent!.child.stdin?.write('y');
    const response = await answer;
    const stored = await expectJson<{ path: string; size: number }>(response, 201);
    assert.equal(stored.path, 'kept.bin');
    assert.ok(readFileSync(join(shared, 'kept.bin')).equals(data));
  });

  it('an upload the user refuses answers 403 REFUSED_BY_USER and leaves nothing', async () => {
    const answer = put('refused.bin', randomBytes(50_000));
    await waitFor('the user to be asked', () => agent!.output().includes(asked('refused.bin')));
    agent!.child.stdin?.write('n');
    const response = await answer;
    const problem = await expectJson<{ code: string }>(response, 403);
    assert.equal(problem.code, 'REFUSED_BY_USER');
    assert.deepEqual(readdirSync(shared), ['kept.bin']);
  });
});

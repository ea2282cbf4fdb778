import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectScript, createScriptSession, spawnAgent } from '../support/agent-process.ts';
import { type ApiClient, apiClient, assertProblem, createToken, expectJson } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { type RawRequestOptions, rawRequest, readAll } from '../support/raw-http.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

/**
 * A script drives a real agent (agent/main.ts, as an end user runs it, accepting on their behalf)
 * through the HTTP API only, with an API token: create a session, let the agent join with the code,
 * connect, wait for consent, run a command, move files both ways, and end the session.
 */
/** The transfer idle timeout of this control plane, in seconds. */
const TRANSFER_IDLE_SECONDS = 3;

describe('a script with an API token runs commands and moves files on a real agent', () => {
  let xvfb: Xvfb;
  let cp: TestControlPlane;
  let api: ApiClient;
  let bearer: string;
  let agent: Spawned | undefined;
  let sessionId: string;
  const shared = realpathSync(mkdtempSync(join(tmpdir(), 'lifeline-agent-files-')));
  const script = () => ({ token: bearer });

  /** A request over the real socket, as curl sends it. */
  const raw = (method: string, path: string, options?: RawRequestOptions) =>
    rawRequest(cp.url, bearer, method, path, options);

  /** Files the agent process holds open, as paths. */
  function openFiles(pid: number): string[] {
    return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
      } catch {
        return [];
      }
    });
  }

  before(async () => {
    xvfb = await startXvfb({ width: 640, height: 480 });
    // Transfers that stall are given up after this long; short, so a test can wait for it.
    cp = await startControlPlane({
      listen: true,
      env: { LIFELINE_TRANSFER_IDLE_SECONDS: String(TRANSFER_IDLE_SECONDS) },
    });
    api = apiClient(cp);
    const admin = { cookie: await loginCookie(cp.app) };
    bearer = (
      await createToken(api, admin, ['sessions:read', 'sessions:write', 'exec', 'files'], 'ci-script')
    ).token;
  });

  after(async () => {
    await agent?.kill();
    await cp?.stop();
    await xvfb?.stop();
    rmSync(shared, { recursive: true, force: true });
  });

  it('the script creates a session, the agent joins with its code, and the script connects once the user accepts', async () => {
    const created = await createScriptSession(api, script());
    sessionId = created.sessionId;
    agent = spawnAgent({
      server: cp.url,
      display: xvfb.display,
      code: created.code,
      allow: ['chat', 'files', 'shell'],
      filesRoot: shared,
    });
    await connectScript(api, script(), sessionId, agent, ['files', 'shell']);
  });

  it('a command returns its standard output, standard error and exit code', async () => {
    const result = await expectJson<{ exitCode: number; stdout: string; stderr: string; timedOut: boolean }>(
      await api.post(`/api/sessions/${sessionId}/exec`, script(), {
        command: 'echo hello && echo oops >&2; exit 3',
      }),
      200,
    );
    assert.equal(result.stdout, 'hello\n');
    assert.equal(result.stderr, 'oops\n');
    assert.equal(result.exitCode, 3);
    assert.equal(result.timedOut, false);
    const where = await expectJson<{ stdout: string }>(
      await api.post(`/api/sessions/${sessionId}/exec`, script(), { command: 'pwd' }),
      200,
    );
    assert.equal(where.stdout.trim(), shared, 'commands run in the shared folder');
  });

  it('binary output comes back byte for byte in stdoutBase64 (with outputEncoding base64)', async () => {
    const data = randomBytes(64 * 1024);
    writeFileSync(join(shared, 'binary.bin'), data);
    const result = await expectJson<{ stdout: string; stdoutBase64?: string; truncated: boolean }>(
      await api.post(`/api/sessions/${sessionId}/exec`, script(), {
        command: 'cat binary.bin',
        outputEncoding: 'base64',
      }),
      200,
    );
    assert.equal(result.truncated, false);
    assert.ok(Buffer.from(result.stdoutBase64 ?? '', 'base64').equals(data), 'the output is byte-exact');
  });

  it('a few MiB uploaded come back byte for byte, whole and from an offset', async () => {
    const data = randomBytes(4 * 1024 * 1024 + 777);
    const response = await raw('PUT', `/api/sessions/${sessionId}/files/content?path=payload.bin`, {
      headers: { 'content-length': String(data.byteLength) },
      body: data,
    });
    const stored = JSON.parse((await readAll(response)).toString());
    assert.equal(response.statusCode, 201, JSON.stringify(stored));
    assert.deepEqual(stored, {
      path: 'payload.bin',
      size: data.byteLength,
      sha256: createHash('sha256').update(data).digest('hex'),
    });
    assert.ok(readFileSync(join(shared, 'payload.bin')).equals(data), 'the agent stored the upload');

    const whole = await raw('GET', `/api/sessions/${sessionId}/files/content?path=payload.bin`);
    assert.equal(whole.statusCode, 200);
    assert.ok((await readAll(whole)).equals(data), 'the download is byte-identical');
    const tail = await raw('GET', `/api/sessions/${sessionId}/files/content?path=payload.bin`, {
      headers: { range: 'bytes=3000000-' },
    });
    assert.equal(tail.statusCode, 206);
    assert.ok(
      (await readAll(tail)).equals(data.subarray(3_000_000)),
      'the resumed part is the file from there',
    );

    const listing = await expectJson<{ entries: { name: string; size: number }[] }>(
      await api.get(`/api/sessions/${sessionId}/files`, script()),
      200,
    );
    assert.deepEqual(
      listing.entries.find((entry) => entry.name === 'payload.bin'),
      { ...listing.entries.find((entry) => entry.name === 'payload.bin'), size: data.byteLength },
    );
  });

  it('a path outside the shared folder is refused with 403 PATH_OUTSIDE_FOLDER', async () => {
    await assertProblem(
      await api.get(
        `/api/sessions/${sessionId}/files/content?path=${encodeURIComponent('../outside.txt')}`,
        script(),
      ),
      403,
      'PATH_OUTSIDE_FOLDER',
    );
    const response = await raw(
      'PUT',
      `/api/sessions/${sessionId}/files/content?path=${encodeURIComponent('../x')}`,
      {
        headers: { 'content-length': '1' },
        body: Buffer.from('x'),
      },
    );
    assert.equal(response.statusCode, 403);
    assert.equal(JSON.parse((await readAll(response)).toString()).code, 'PATH_OUTSIDE_FOLDER');
  });

  it('a client that drops a download makes the agent stop reading the file', async () => {
    const big = join(shared, 'big.img');
    writeFileSync(big, randomBytes(64 * 1024 * 1024));
    const pid = agent!.child.pid!;
    const response = await raw('GET', `/api/sessions/${sessionId}/files/content?path=big.img`);
    assert.equal(response.statusCode, 200);
    response.pause();
    await waitFor('the agent to open the file', () => openFiles(pid).includes(big));
    response.destroy();
    await waitFor('the agent to close the file', () => !openFiles(pid).includes(big), 20_000);
  });

  it('a stalled upload is given up after the idle timeout: 408, the agent closes its part, and the same upload then completes', async () => {
    const data = randomBytes(1024 * 1024);
    const part = join(shared, 'stalled.bin.lifeline-part');
    const pid = agent!.child.pid!;
    const request = httpRequest(`${cp.url}/api/sessions/${sessionId}/files/content?path=stalled.bin`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${bearer}`, 'content-length': String(data.byteLength) },
    });
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      request.on('response', resolve);
      request.on('error', reject);
    });
    // A third of the body, then nothing: the connection stays open.
    request.write(data.subarray(0, 300_000));
    await waitFor('the agent to open the part file', () => openFiles(pid).includes(part));
    const response = await answered;
    assert.equal(response.statusCode, 408);
    assert.equal(JSON.parse((await readAll(response)).toString()).code, 'TIMEOUT');
    request.destroy();
    await waitFor('the agent to close the part file', () => !openFiles(pid).includes(part), 20_000);
    // Nothing holds the upload any more: the same upload runs again, to the end.
    const retry = await raw('PUT', `/api/sessions/${sessionId}/files/content?path=stalled.bin`, {
      headers: { 'content-length': String(data.byteLength) },
      body: data,
    });
    assert.equal(retry.statusCode, 201, (await readAll(retry)).toString());
    assert.ok(readFileSync(join(shared, 'stalled.bin')).equals(data));
  });

  it('a download the client stops reading is given up after the idle timeout: the agent closes the file', async () => {
    const big = join(shared, 'unread.img');
    writeFileSync(big, randomBytes(32 * 1024 * 1024));
    const pid = agent!.child.pid!;
    const response = await raw('GET', `/api/sessions/${sessionId}/files/content?path=unread.img`);
    assert.equal(response.statusCode, 200);
    response.pause();
    const cut = new Promise<boolean>((resolve) => response.on('close', () => resolve(!response.complete)));
    await waitFor('the agent to open the file', () => openFiles(pid).includes(big));
    await waitFor('the agent to close the file', () => !openFiles(pid).includes(big), 20_000);
    response.resume();
    assert.equal(await cut, true, 'the response was cut, not completed');
  });

  /** Reads the first `bytes` of a response, then drops the connection, as an interrupted download. */
  async function readPart(response: IncomingMessage, bytes: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let got = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      got += chunk.byteLength;
      if (got >= bytes) break;
    }
    response.destroy();
    return Buffer.concat(chunks).subarray(0, bytes);
  }

  it('a resume with If-Range of a file that changed between the parts brings back the whole new file (200)', async () => {
    const first = randomBytes(2 * 1024 * 1024);
    const changed = randomBytes(2 * 1024 * 1024);
    writeFileSync(join(shared, 'if-range.bin'), first);
    const url = `/api/sessions/${sessionId}/files/content?path=if-range.bin`;
    const original = await raw('GET', url);
    const etag = original.headers.etag;
    assert.match(etag ?? '', /^"[^"]+"$/, 'a download carries a strong ETag');
    const part = await readPart(original, 1024 * 1024);
    writeFileSync(join(shared, 'if-range.bin'), changed);

    const resumed = await raw('GET', url, {
      headers: { range: `bytes=${part.byteLength}-`, 'if-range': etag! },
    });
    assert.equal(resumed.statusCode, 200, 'the changed file comes back whole');
    assert.notEqual(resumed.headers.etag, etag);
    assert.equal(resumed.headers['content-range'], undefined);
    assert.ok((await readAll(resumed)).equals(changed), 'the body is the new file from byte 0');

    // The same validator as the file has now: the range is sent.
    const ranged = await raw('GET', url, {
      headers: { range: 'bytes=1000000-', 'if-range': resumed.headers.etag! },
    });
    assert.equal(ranged.statusCode, 206);
    assert.ok((await readAll(ranged)).equals(changed.subarray(1_000_000)));
  });

  it('If-Match with the ETag of a file that changed is refused with 412 FILE_CHANGED', async () => {
    writeFileSync(join(shared, 'if-match.bin'), randomBytes(100_000));
    const url = `/api/sessions/${sessionId}/files/content?path=if-match.bin`;
    const before = await raw('GET', url);
    const etag = before.headers.etag!;
    await readAll(before);
    const same = await raw('GET', url, { headers: { range: 'bytes=50000-', 'if-match': etag } });
    assert.equal(same.statusCode, 206, 'an unchanged file still resumes under If-Match');
    await readAll(same);
    writeFileSync(join(shared, 'if-match.bin'), randomBytes(100_000));
    const refused = await raw('GET', url, { headers: { range: 'bytes=50000-', 'if-match': etag } });
    assert.equal(refused.statusCode, 412);
    assert.equal(JSON.parse((await readAll(refused)).toString()).code, 'FILE_CHANGED');
  });

  it('a resume with Range alone of a file that changed since this client read it comes back whole, not as a mix of both', async () => {
    const first = randomBytes(2 * 1024 * 1024);
    const changed = randomBytes(2 * 1024 * 1024);
    writeFileSync(join(shared, 'range-only.bin'), first);
    const url = `/api/sessions/${sessionId}/files/content?path=range-only.bin`;
    const part = await readPart(await raw('GET', url), 1024 * 1024);
    writeFileSync(join(shared, 'range-only.bin'), changed);
    // As curl -C - asks: a Range and no validator.
    const resumed = await raw('GET', url, { headers: { range: `bytes=${part.byteLength}-` } });
    const body = await readAll(resumed);
    assert.ok(
      !Buffer.concat([part, body]).equals(
        Buffer.concat([first.subarray(0, part.byteLength), changed.subarray(part.byteLength)]),
      ),
      'the client is not handed the tail of the new file to append to the old one',
    );
    assert.equal(resumed.statusCode, 200);
    assert.ok(body.equals(changed));
  });

  it('a file written to while a resumed part is sent cuts the connection instead of completing a mix', async () => {
    const path = join(shared, 'changing.img');
    const size = 32 * 1024 * 1024;
    writeFileSync(path, randomBytes(size));
    const response = await raw('GET', `/api/sessions/${sessionId}/files/content?path=changing.img`, {
      headers: { range: 'bytes=1000-' },
    });
    assert.equal(response.statusCode, 206);
    response.pause();
    await waitFor('the agent to open the file', () => openFiles(agent!.child.pid!).includes(path));
    // Bytes the agent has not sent yet change: the rest of the response would come from the new file.
    const handle = openSync(path, 'r+');
    writeSync(handle, randomBytes(1024 * 1024), 0, 1024 * 1024, size - 1024 * 1024);
    closeSync(handle);
    const body = readAll(response);
    response.resume();
    await assert.rejects(body, /cut short|aborted/);
  });

  it('ending the session through the API ends the agent', async () => {
    await expectJson(await api.post(`/api/sessions/${sessionId}/end`, script()), 200);
    const code = await Promise.race([
      agent!.exited,
      new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 20_000)),
    ]);
    assert.notEqual(code, 'running', `the agent exits: ${agent!.output()}`);
    await assertProblem(
      await api.post(`/api/sessions/${sessionId}/exec`, script(), { command: 'true' }),
      410,
      'SESSION_ENDED',
    );
  });
});

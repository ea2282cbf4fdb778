import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { participantsOf } from '../../control-plane/remote-tools/index.ts';
import { ALL_PERMISSIONS, FILE_WINDOW_BYTES } from '../../protocol/index.ts';
import {
  type ApiClient,
  type AuditEvent,
  apiClient,
  assertProblem,
  type Credentials,
  createToken,
  expectJson,
  type Page,
} from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { permissionsWith } from '../support/permissions.ts';
import { type RawRequestOptions, rawRequest, readAll } from '../support/raw-http.ts';
import { eventually } from './relay-client.ts';
import { type ConsentScript, ScriptedAgent } from './scripted-agent.ts';

interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  truncated: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
}

describe('the API runs commands and moves files through a live session', () => {
  let cp: TestControlPlane;
  let api: ApiClient;
  let admin: Credentials;
  let adminId: string;
  let token: { id: string; token: string };
  let script: Credentials;
  const agents: ScriptedAgent[] = [];
  const folders: string[] = [];

  /** A scripted agent in its own folder, its code redeemed by the script. */
  async function liveSession(options: { consent?: ConsentScript; features?: string[] } = {}) {
    const root = mkdtempSync(join(tmpdir(), 'lifeline-api-files-'));
    folders.push(root);
    const agent = await ScriptedAgent.start(cp, root, { consent: { accept: ALL_PERMISSIONS }, ...options });
    agents.push(agent);
    await expectJson(await api.post('/api/sessions/redeem', script, { code: agent.code }), 200);
    return { agent, root, id: agent.sessionId };
  }

  /** A request over the real socket, as curl sends it. */
  const raw = (method: string, path: string, options?: RawRequestOptions) =>
    rawRequest(cp.url, token.token, method, path, options);

  async function upload(id: string, path: string, body: Uint8Array, query = '') {
    const response = await raw(
      'PUT',
      `/api/sessions/${id}/files/content?path=${encodeURIComponent(path)}${query}`,
      {
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.byteLength) },
        body,
      },
    );
    return { status: response.statusCode, body: JSON.parse((await readAll(response)).toString()) };
  }

  async function audit(sessionId: string, action: string): Promise<AuditEvent[]> {
    const page = await expectJson<Page<AuditEvent>>(
      await api.get(`/api/audit-events?sessionId=${sessionId}&action=${action}`, admin),
      200,
    );
    return page.items;
  }

  const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

  before(async () => {
    cp = await startControlPlane({ listen: true });
    api = apiClient(cp);
    admin = { cookie: await loginCookie(cp.app) };
    adminId = (await expectJson<{ operator: { id: string } }>(await api.get('/api/auth/me', admin), 200))
      .operator.id;
    token = await createToken(
      api,
      admin,
      ['sessions:read', 'sessions:write', 'exec', 'files'],
      'nightly-backup',
    );
    script = { token: token.token };
  });

  after(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    await cp.stop();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  describe('connect and consent', () => {
    it('a script connects, the end user is asked for what it needs, and once they accept it runs a command', async () => {
      const { agent, id } = await liveSession({ consent: 'ask' });
      const connection = await expectJson<{ slot: number; consent: string; permissions: unknown }>(
        await api.post(`/api/sessions/${id}/connect`, script, { capabilities: ['files', 'shell'] }),
        200,
      );
      assert.equal(connection.consent, 'pending');
      assert.equal(connection.permissions, null);
      const joined = await agent.client.next('operator-joined');
      assert.equal(joined.slot, connection.slot);
      assert.equal(joined.operator.id, adminId);
      assert.equal(joined.operator.name, 'Administrator (API: nightly-backup)');
      assert.deepEqual(joined.requested, permissionsWith({ chat: true, files: true, shell: true }));
      const notYet = await expectJson<{ reached: boolean }>(
        await api.get(`/api/sessions/${id}/wait?until=active&timeout=0`, script),
        200,
      );
      assert.equal(notYet.reached, false);
      agent.client.send({ type: 'consent', accepted: true, permissions: ALL_PERMISSIONS });
      const active = await expectJson<{ reached: boolean; status: string }>(
        await api.get(`/api/sessions/${id}/wait?until=active&timeout=10`, script),
        200,
      );
      assert.equal(active.status, 'active');
      const result = await expectJson<ExecResult>(
        await api.post(`/api/sessions/${id}/exec`, script, {
          command: 'echo hello && echo oops >&2; exit 3',
        }),
        200,
      );
      assert.equal(result.exitCode, 3);
      assert.equal(result.signal, null);
      assert.equal(result.stdout, 'hello\n');
      assert.equal(result.stderr, 'oops\n');
      assert.equal(result.timedOut, false);
      assert.equal(result.truncated, false);
      assert.ok(result.durationMs >= 0);
      // One participant per caller: connecting again reuses it.
      const again = await expectJson<{ slot: number; consent: string }>(
        await api.post(`/api/sessions/${id}/connect`, script, { capabilities: ['shell'] }),
        200,
      );
      assert.deepEqual(again, { ...again, slot: connection.slot, consent: 'accepted' });
      assert.equal(agent.client.messages('operator-joined').length, 1);
    });

    it('a command waits for the consent the call asked for, and runs once the user accepts', async () => {
      const { agent, id } = await liveSession({ consent: 'ask' });
      const pending = api.post(`/api/sessions/${id}/exec`, script, { command: 'printf done' });
      const joined = await agent.client.next('operator-joined');
      assert.equal(joined.requested.shell, true, 'the call asked for the shell');
      assert.equal(joined.requested.files, false, 'and for nothing it does not need');
      agent.client.send({ type: 'consent', accepted: true, permissions: ALL_PERMISSIONS });
      assert.equal((await expectJson<ExecResult>(await pending, 200)).stdout, 'done');
    });

    it('a command is refused with 409 when the user does not answer within the bound; its Idempotency-Key stays unused', async () => {
      const { agent, id } = await liveSession({ consent: 'ask' });
      const participants = participantsOf(cp.services);
      participants.consentWaitMs = 200;
      const key = { headers: { 'idempotency-key': randomUUID() } };
      try {
        const problem = await assertProblem(
          await api.post(`/api/sessions/${id}/exec`, script, { command: 'printf ran' }, key),
          409,
          'CONFLICT',
        );
        assert.match(problem.detail, /has not answered/);
        assert.deepEqual(agent.client.messages('exec'), []);
      } finally {
        participants.consentWaitMs = 60_000;
      }
      agent.client.send({ type: 'consent', accepted: true, permissions: ALL_PERMISSIONS });
      const retry = await api.post(`/api/sessions/${id}/exec`, script, { command: 'printf ran' }, key);
      assert.equal(retry.headers.get('idempotent-replayed'), null, 'the refusal was not kept as the result');
      assert.equal((await expectJson<ExecResult>(retry, 200)).stdout, 'ran');
    });

    it('without Shell allowed, a command is refused with 403 CAPABILITY_NOT_ALLOWED naming "Shell"', async () => {
      const { agent, id } = await liveSession({ consent: { accept: { ...ALL_PERMISSIONS, shell: false } } });
      const problem = await assertProblem(
        await api.post(`/api/sessions/${id}/exec`, script, { command: 'id' }),
        403,
        'CAPABILITY_NOT_ALLOWED',
      );
      assert.match(problem.detail, /"Shell"/);
      assert.deepEqual(agent.client.messages('exec'), [], 'nothing reached the agent');
    });

    it('a command on a session accepted without Shell asks the user, and runs once they allow it', async () => {
      const { agent, id } = await liveSession({ consent: { accept: { ...ALL_PERMISSIONS, shell: false } } });
      agent.more = 'grant';
      const result = await expectJson<ExecResult>(
        await api.post(`/api/sessions/${id}/exec`, script, { command: 'printf granted' }),
        200,
      );
      assert.equal(result.stdout, 'granted');
      const [asked] = agent.client.messages('permission-request');
      assert.equal(asked?.requested.shell, true, 'the user was asked for the shell');
      assert.equal(asked?.requested.files, false, 'and for nothing else');
      assert.match(asked?.operator?.name ?? '', /\(API: /);
    });

    it('connect on an accepted session asks the user for the capabilities it lacks', async () => {
      const { agent, id } = await liveSession({ consent: { accept: { ...ALL_PERMISSIONS, files: false } } });
      // The first connect joins and the user accepts without Files.
      await eventually(async () => {
        const response = await api.post(`/api/sessions/${id}/connect`, script, { capabilities: ['chat'] });
        return (await expectJson<{ consent: string }>(response, 200)).consent === 'accepted';
      }, 'the consent');
      assert.equal(agent.client.messages('permission-request').length, 0, 'chat was allowed: nothing to ask');
      await expectJson(
        await api.post(`/api/sessions/${id}/connect`, script, { capabilities: ['files', 'chat'] }),
        200,
      );
      const asked = await agent.client.next('permission-request');
      assert.deepEqual(asked.requested, permissionsWith({ files: true }));
    });

    it('an agent that does not offer commands or files answers 409 NOT_SUPPORTED', async () => {
      const { id } = await liveSession({ features: [] });
      await assertProblem(
        await api.post(`/api/sessions/${id}/exec`, script, { command: 'id' }),
        409,
        'NOT_SUPPORTED',
      );
      await assertProblem(await api.get(`/api/sessions/${id}/files`, script), 409, 'NOT_SUPPORTED');
      await assertProblem(
        await api.post(`/api/sessions/${id}/connect`, script, { capabilities: ['files'] }),
        409,
        'NOT_SUPPORTED',
      );
    });

    it('a session whose agent has not connected answers 409 AGENT_OFFLINE; an ended one 410', async () => {
      const { session } = await expectJson<{ session: { id: string } }>(
        await api.post('/api/sessions', script, {}),
        201,
      );
      const problem = await assertProblem(
        await api.post(`/api/sessions/${session.id}/exec`, script, { command: 'id' }),
        409,
        'AGENT_OFFLINE',
      );
      assert.match(problem.detail, /wait\?until=agent-connected/);
      await expectJson(await api.post(`/api/sessions/${session.id}/end`, script), 200);
      await assertProblem(
        await api.post(`/api/sessions/${session.id}/exec`, script, { command: 'id' }),
        410,
        'SESSION_ENDED',
      );
    });

    it('the participant leaves after a quiet minute (shortened here), and the agent is told its slot', async () => {
      const { agent, id } = await liveSession();
      const participants = participantsOf(cp.services);
      participants.idleDetachMs = 300;
      try {
        const connection = await expectJson<{ slot: number }>(
          await api.post(`/api/sessions/${id}/connect`, script, { capabilities: ['shell'] }),
          200,
        );
        const left = await agent.client.next('operator-left');
        assert.deepEqual(left, { type: 'operator-left', operatorId: adminId, slot: connection.slot });
        // The next call attaches again.
        await expectJson(await api.post(`/api/sessions/${id}/exec`, script, { command: 'true' }), 200);
        assert.equal(agent.client.messages('operator-joined').length, 2);
      } finally {
        participants.idleDetachMs = 60_000;
      }
    });

    it('a long command keeps the participant attached past the idle time', async () => {
      const { agent, id } = await liveSession();
      const participants = participantsOf(cp.services);
      participants.idleDetachMs = 100;
      try {
        const result = await expectJson<ExecResult>(
          await api.post(`/api/sessions/${id}/exec`, script, { command: 'sleep 1; echo slept' }),
          200,
        );
        // Detached mid-command, the call would have failed: its channel would have been lost.
        assert.equal(result.stdout, 'slept\n');
        assert.equal(agent.client.messages('operator-joined').length, 1);
      } finally {
        participants.idleDetachMs = 60_000;
      }
    });
  });

  describe('commands', () => {
    it('the command and its exit are audited as the API token; a retry with the same Idempotency-Key does not run it twice', async () => {
      const { agent, id } = await liveSession();
      const key = randomUUID();
      const body = { command: 'echo $$', timeoutSeconds: 10 };
      const first = await expectJson<ExecResult>(
        await api.post(`/api/sessions/${id}/exec`, script, body, { headers: { 'idempotency-key': key } }),
        200,
      );
      const retry = await api.post(`/api/sessions/${id}/exec`, script, body, {
        headers: { 'idempotency-key': key },
      });
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(await expectJson<ExecResult>(retry, 200), first);
      assert.equal(agent.client.messages('exec').length, 1, 'the command ran once');
      const actor = { actorType: 'api-token', actorId: `${adminId}/${token.id}` };
      const [exec] = await audit(id, 'session.exec');
      assert.deepEqual({ actorType: exec!.actorType, actorId: exec!.actorId }, actor);
      assert.equal((exec!.details as { command?: string }).command, 'echo $$');
      await eventually(async () => (await audit(id, 'session.exec-exit')).length === 1, 'the exit audited');
      const [exit] = await audit(id, 'session.exec-exit');
      assert.equal((exit!.details as { exitCode?: number }).exitCode, 0);
      assert.deepEqual({ actorType: exit!.actorType, actorId: exit!.actorId }, actor);
    });

    it('output past maxOutputBytes is cut and reported truncated; a timeout is reported timedOut', async () => {
      const { id } = await liveSession();
      const big = await expectJson<ExecResult>(
        await api.post(`/api/sessions/${id}/exec`, script, {
          command: 'yes | head -c 100000',
          maxOutputBytes: 1000,
        }),
        200,
      );
      assert.equal(big.truncated, true);
      assert.ok(big.stdout.length <= 1000, `kept ${big.stdout.length} characters`);
      const slow = await expectJson<ExecResult>(
        await api.post(`/api/sessions/${id}/exec`, script, { command: 'sleep 30', timeoutSeconds: 1 }),
        200,
      );
      assert.equal(slow.timedOut, true);
      assert.equal(slow.exitCode, null);
    });

    it("a cwd outside the shared folder is refused with 403 PATH_OUTSIDE_FOLDER and the agent's words", async () => {
      const { id } = await liveSession();
      const problem = await assertProblem(
        await api.post(`/api/sessions/${id}/exec`, script, { command: 'pwd', cwd: '../..' }),
        403,
        'PATH_OUTSIDE_FOLDER',
      );
      assert.match(problem.detail, /only paths inside the shared folder are allowed/);
    });

    it('a script that goes away stops its command on the agent', async () => {
      const { agent, id } = await liveSession();
      const controller = new AbortController();
      const pending = fetch(`${cp.url}/api/sessions/${id}/exec`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ command: 'sleep 60' }),
        signal: controller.signal,
      }).catch(() => undefined);
      const exec = await agent.client.next('exec');
      controller.abort();
      await pending;
      await eventually(
        () => agent.closedChannels.includes(exec.channel),
        'the command channel closed',
        10_000,
      );
    });
  });

  describe('files', () => {
    it('a few MiB go up and come back byte for byte, with the SHA-256 the agent verified', async () => {
      const { root, id } = await liveSession();
      const data = randomBytes(3 * 1024 * 1024 + 12345);
      const stored = await upload(id, 'backup.bin', data);
      assert.equal(stored.status, 201, JSON.stringify(stored.body));
      assert.deepEqual(stored.body, { path: 'backup.bin', size: data.byteLength, sha256: sha256(data) });
      assert.ok(readFileSync(join(root, 'backup.bin')).equals(data), 'the file on the device is the upload');

      const response = await raw('GET', `/api/sessions/${id}/files/content?path=backup.bin`);
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-type'], 'application/octet-stream');
      assert.equal(response.headers['content-length'], String(data.byteLength));
      assert.equal(
        response.headers['content-disposition'],
        `attachment; filename="backup.bin"; filename*=UTF-8''backup.bin`,
      );
      assert.ok((await readAll(response)).equals(data), 'the download is the file');

      const [read] = await audit(id, 'file.read');
      assert.deepEqual(read!.details, { path: 'backup.bin', offset: 0 });
      assert.equal(read!.actorType, 'api-token');
      const [write] = await audit(id, 'file.write');
      assert.deepEqual(write!.details, { path: 'backup.bin', size: data.byteLength, overwrite: false });
    });

    it('Range: bytes=N- resumes a download with 206 and Content-Range; HEAD tells the size; a range past the end is 416', async () => {
      const { agent, root, id } = await liveSession();
      const data = randomBytes(700_000);
      writeFileSync(join(root, 'video.mp4'), data);
      const response = await raw('GET', `/api/sessions/${id}/files/content?path=video.mp4`, {
        headers: { range: 'bytes=500000-' },
      });
      assert.equal(response.statusCode, 206);
      assert.equal(response.headers['content-range'], `bytes 500000-699999/700000`);
      assert.ok((await readAll(response)).equals(data.subarray(500_000)));
      const head = await raw('HEAD', `/api/sessions/${id}/files/content?path=video.mp4`);
      assert.equal(head.statusCode, 200);
      assert.equal(head.headers['content-length'], '700000');
      await readAll(head);
      const read = (await agent.client.next('file-read', 1)).channel;
      await eventually(() => agent.closedChannels.includes(read), 'the HEAD closed its transfer');
      const beyond = await raw('GET', `/api/sessions/${id}/files/content?path=video.mp4`, {
        headers: { range: 'bytes=700000-' },
      });
      assert.equal(beyond.statusCode, 416);
      assert.equal(beyond.headers['content-range'], 'bytes */700000');
      await readAll(beyond);
    });

    it("a download whose checksum does not match the agent's is cut before its end, so the client fails", async () => {
      const { agent, root, id } = await liveSession();
      const data = randomBytes(300_000);
      writeFileSync(join(root, 'report.pdf'), data);
      agent.corruptNextChecksum = true;
      const response = await raw('GET', `/api/sessions/${id}/files/content?path=report.pdf`);
      assert.equal(response.statusCode, 200);
      await assert.rejects(readAll(response), 'the response is cut short');
    });

    it('an HTTP client that stops reading stops the agent at the window; one that disconnects closes the channel', async () => {
      const { agent, root, id } = await liveSession();
      const data = randomBytes(48 * 1024 * 1024);
      writeFileSync(join(root, 'disk.img'), data);
      const response = await raw('GET', `/api/sessions/${id}/files/content?path=disk.img`);
      response.pause();
      const channel = (await agent.client.next('file-read')).channel;
      // Wait until the agent has nothing left it may send: it is held by the window, not the file's end.
      let last = -1;
      await eventually(
        async () => {
          const download = agent.downloads.get(channel);
          const sent = download?.sent ?? -1;
          const settled = sent === last;
          last = sent;
          await new Promise((resolve) => setTimeout(resolve, 500));
          return settled && download !== undefined && sent - download.acked >= FILE_WINDOW_BYTES - 65_536;
        },
        'the agent waits for acks',
        30_000,
      );
      const download = agent.downloads.get(channel)!;
      assert.ok(
        download.sent < data.byteLength,
        `the agent stopped at ${download.sent} of ${data.byteLength}`,
      );
      assert.ok(download.sent - download.acked <= FILE_WINDOW_BYTES);
      response.destroy();
      await eventually(
        () => agent.closedChannels.includes(channel),
        'channel-close sent to the agent',
        10_000,
      );
      assert.equal(agent.downloads.has(channel), false, 'the agent stopped streaming');
    });

    it('an upload resumes from the part file the agent kept, skipping what it has', async () => {
      const { agent, root, id } = await liveSession();
      const data = randomBytes(2 * 1024 * 1024);
      writeFileSync(join(root, 'big.iso.lifeline-part'), data.subarray(0, 1_500_000));
      const stored = await upload(id, 'big.iso', data);
      assert.equal(stored.status, 201, JSON.stringify(stored.body));
      assert.equal(stored.body.sha256, sha256(data));
      assert.ok(readFileSync(join(root, 'big.iso')).equals(data));
      assert.equal(
        agent.client.fileChunks()[0]?.offset,
        1_500_000,
        'the first chunk sent starts where the part ends',
      );
    });

    it('a part file that is not the start of this body fails with 422 CHECKSUM_MISMATCH; sending again works', async () => {
      const { root, id } = await liveSession();
      const data = randomBytes(400_000);
      writeFileSync(join(root, 'a.bin.lifeline-part'), randomBytes(100_000));
      const first = await upload(id, 'a.bin', data);
      assert.equal(first.status, 422);
      assert.equal(first.body.code, 'CHECKSUM_MISMATCH');
      const second = await upload(id, 'a.bin', data);
      assert.equal(second.status, 201);
      assert.ok(readFileSync(join(root, 'a.bin')).equals(data));
    });

    it('an existing file is 409 FILE_EXISTS unless overwrite=true; a body without Content-Length is 411', async () => {
      const { root, id } = await liveSession();
      writeFileSync(join(root, 'notes.txt'), 'old');
      const refused = await upload(id, 'notes.txt', Buffer.from('new'));
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'FILE_EXISTS');
      const replaced = await upload(id, 'notes.txt', Buffer.from('new'), '&overwrite=true');
      assert.equal(replaced.status, 201);
      assert.equal(readFileSync(join(root, 'notes.txt'), 'utf8'), 'new');
      const chunked = await raw('PUT', `/api/sessions/${id}/files/content?path=c.txt`, {
        headers: { 'transfer-encoding': 'chunked' },
        body: Buffer.from('abc'),
      });
      assert.equal(chunked.statusCode, 411);
      assert.equal(JSON.parse((await readAll(chunked)).toString()).code, 'VALIDATION_FAILED');
    });

    it('paths outside the shared folder are 403 PATH_OUTSIDE_FOLDER; missing files 404 FILE_NOT_FOUND', async () => {
      const { id } = await liveSession();
      await assertProblem(
        await api.get(
          `/api/sessions/${id}/files/content?path=${encodeURIComponent('../../etc/passwd')}`,
          script,
        ),
        403,
        'PATH_OUTSIDE_FOLDER',
      );
      await assertProblem(
        await api.get(`/api/sessions/${id}/files?path=..`, script),
        403,
        'PATH_OUTSIDE_FOLDER',
      );
      await assertProblem(
        await api.get(`/api/sessions/${id}/files/content?path=nothing.txt`, script),
        404,
        'FILE_NOT_FOUND',
      );
    });

    it('folders are listed, and made, renamed, copied and deleted with file operations', async () => {
      const { root, id } = await liveSession();
      writeFileSync(join(root, 'a.txt'), 'a');
      await expectJson(
        await api.post(`/api/sessions/${id}/files/ops`, script, { op: 'mkdir', path: 'logs' }),
        200,
      );
      await expectJson(
        await api.post(`/api/sessions/${id}/files/ops`, script, {
          op: 'rename',
          path: 'a.txt',
          to: 'logs/a.txt',
        }),
        200,
      );
      const listing = await expectJson<{
        root: string;
        total: number;
        entries: { name: string; type: string }[];
        nextOffset: number | null;
      }>(await api.get(`/api/sessions/${id}/files?path=logs`, script), 200);
      assert.equal(listing.root, root);
      assert.deepEqual(
        listing.entries.map((entry) => [entry.name, entry.type]),
        [['a.txt', 'file']],
      );
      assert.equal(listing.nextOffset, null);
      await assertProblem(
        await api.post(`/api/sessions/${id}/files/ops`, script, { op: 'rename', path: 'logs' }),
        400,
        'VALIDATION_FAILED',
      );
      await expectJson(
        await api.post(`/api/sessions/${id}/files/ops`, script, {
          op: 'copy',
          path: 'logs',
          to: 'logs copy',
        }),
        200,
      );
      assert.equal(readFileSync(join(root, 'logs copy', 'a.txt'), 'utf8'), 'a', 'a folder is copied whole');
      await assertProblem(
        await api.post(`/api/sessions/${id}/files/ops`, script, { op: 'copy', path: 'logs' }),
        400,
        'VALIDATION_FAILED',
      );
      await expectJson(
        await api.post(`/api/sessions/${id}/files/ops`, script, { op: 'delete', path: 'logs/a.txt' }),
        200,
      );
      const [op] = await audit(id, 'file.op');
      assert.deepEqual(op!.details, { op: 'delete', path: 'logs/a.txt' });
    });

    it('without Files allowed, file calls are 403 CAPABILITY_NOT_ALLOWED naming "Files"', async () => {
      const { agent, id } = await liveSession({ consent: { accept: { ...ALL_PERMISSIONS, files: false } } });
      const problem = await assertProblem(
        await api.get(`/api/sessions/${id}/files`, script),
        403,
        'CAPABILITY_NOT_ALLOWED',
      );
      assert.match(problem.detail, /"Files"/);
      const refused = await upload(id, 'x.bin', Buffer.from('x'));
      assert.equal(refused.status, 403);
      assert.deepEqual(agent.client.messages('file-write'), []);
    });
  });

  describe('chat', () => {
    it('a script sends a message the end user receives, and reads the chat back', async () => {
      const { agent, id } = await liveSession();
      const sent = await expectJson<{
        id: string;
        text: string;
        from: { kind: string; name: string };
        sentAt: number;
      }>(await api.post(`/api/sessions/${id}/chat`, script, { text: 'Backup starts in 5 minutes.' }), 201);
      assert.equal(sent.from.kind, 'operator');
      assert.equal(sent.from.name, 'Administrator (API: nightly-backup)');
      assert.equal((await agent.client.next('chat')).text, 'Backup starts in 5 minutes.');
      agent.client.send({ type: 'chat', id: 'u1', text: 'OK' });
      await eventually(
        async () =>
          (await expectJson<{ items: unknown[] }>(await api.get(`/api/sessions/${id}/chat`, script), 200))
            .items.length === 2,
        'both messages in the history',
      );
      const history = await expectJson<{ items: { text: string; from: { kind: string } }[] }>(
        await api.get(`/api/sessions/${id}/chat`, script),
        200,
      );
      assert.deepEqual(
        history.items.map((message) => [message.from.kind, message.text]),
        [
          ['operator', 'Backup starts in 5 minutes.'],
          ['user', 'OK'],
        ],
      );
    });

    it('without Chat allowed, sending is 403 CAPABILITY_NOT_ALLOWED', async () => {
      const { id } = await liveSession({ consent: { accept: { ...ALL_PERMISSIONS, chat: false } } });
      await assertProblem(
        await api.post(`/api/sessions/${id}/chat`, script, { text: 'hello?' }),
        403,
        'CAPABILITY_NOT_ALLOWED',
      );
    });
  });

  describe('revoking the token', () => {
    it('stops its calls under way on the device: a running command fails with 401 and its slot leaves', async () => {
      const own = await createToken(api, admin, ['sessions:read', 'sessions:write', 'exec'], 'revoked-soon');
      const { agent, id } = await liveSession();
      const pending = api.post(`/api/sessions/${id}/exec`, { token: own.token }, { command: 'sleep 30' });
      const exec = await agent.client.next('exec');
      assert.equal((await api.delete(`/api/tokens/${own.id}`, admin)).status, 204);
      // Without the revocation reaching it, the command would run its 30 s and answer 200.
      await assertProblem(await pending, 401, 'UNAUTHENTICATED');
      const left = await agent.client.next('operator-left');
      assert.equal(left.slot, exec.channel >>> 16, "the token's connection left the session");
      await assertProblem(
        await api.post(`/api/sessions/${id}/exec`, { token: own.token }, { command: 'id' }),
        401,
        'UNAUTHENTICATED',
      );
    });
  });

  describe('the end of a session', () => {
    it('ends the participant: a running command fails with 410 and later calls are 410', async () => {
      const { agent, id } = await liveSession();
      const pending = api.post(`/api/sessions/${id}/exec`, script, { command: 'sleep 30' });
      await agent.client.next('exec');
      await expectJson(await api.post(`/api/sessions/${id}/end`, script), 200);
      await assertProblem(await pending, 410, 'SESSION_ENDED');
      await assertProblem(
        await api.post(`/api/sessions/${id}/exec`, script, { command: 'id' }),
        410,
        'SESSION_ENDED',
      );
    });
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { idempotencyKeys } from '../../control-plane/db/schema.ts';
import { IDEMPOTENCY_MAX_STORED_CHARS } from '../../control-plane/http/idempotency.ts';
import { ALL_PERMISSIONS, MAX_EXEC_OUTPUT_BYTES } from '../../protocol/index.ts';
import {
  type ApiClient,
  apiClient,
  assertProblem,
  type Credentials,
  createToken,
  expectJson,
} from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { eventually } from './relay-client.ts';
import { ScriptedAgent } from './scripted-agent.ts';

const MIB = 1024 * 1024;
/** The server's hard cap on one command's output in these tests, in bytes. */
const CAP = 2 * MIB;
/** What all running commands together may reserve, in bytes. */
const BUDGET = 5 * MIB;
const PER_SESSION = 2;

interface ExecResult {
  exitCode: number | null;
  truncated: boolean;
  stdout: string;
  stderr: string;
  stdoutBase64?: string;
  stderrBase64?: string;
}

describe('the API bounds what commands hold on the server', () => {
  let cp: TestControlPlane;
  let api: ApiClient;
  let token: string;
  let script: Credentials;
  const agents: ScriptedAgent[] = [];
  const folders: string[] = [];
  const pending: AbortController[] = [];

  async function liveSession() {
    const root = mkdtempSync(join(tmpdir(), 'lifeline-exec-limits-'));
    folders.push(root);
    const agent = await ScriptedAgent.start(cp, root, { consent: { accept: ALL_PERMISSIONS } });
    agents.push(agent);
    await expectJson(await api.post('/api/sessions/redeem', script, { code: agent.code }), 200);
    return { agent, id: agent.sessionId };
  }

  /** Starts a long command over the real socket; abort its controller to stop it. */
  function startLong(id: string, maxOutputBytes: number) {
    const controller = new AbortController();
    pending.push(controller);
    const response = fetch(`${cp.url}/api/sessions/${id}/exec`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'sleep 60', maxOutputBytes }),
      signal: controller.signal,
    }).catch(() => undefined);
    return { controller, response };
  }

  before(async () => {
    cp = await startControlPlane({
      listen: true,
      env: {
        LIFELINE_EXEC_MAX_OUTPUT_BYTES: String(CAP),
        LIFELINE_EXEC_OUTPUT_BUDGET_BYTES: String(BUDGET),
        LIFELINE_EXEC_PER_SESSION: String(PER_SESSION),
      },
    });
    api = apiClient(cp);
    const admin = { cookie: await loginCookie(cp.app) };
    token = (await createToken(api, admin, ['sessions:read', 'sessions:write', 'exec'], 'limits')).token;
    script = { token };
  });

  after(async () => {
    for (const controller of pending) controller.abort();
    await Promise.all(agents.map((agent) => agent.close()));
    await cp.stop();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  it('a command asking for more output than the server allows is stopped at the cap and says truncated', async () => {
    const { agent, id } = await liveSession();
    const result = await expectJson<ExecResult>(
      await api.post(`/api/sessions/${id}/exec`, script, {
        command: 'head -c 6000000 /dev/zero',
        maxOutputBytes: MAX_EXEC_OUTPUT_BYTES,
      }),
      200,
    );
    assert.equal((await agent.client.next('exec')).maxOutputBytes, CAP, 'the agent is told the cap');
    assert.equal(result.stdout.length, CAP, 'no more than the cap is returned');
    assert.equal(result.truncated, true);
  });

  it(`a session runs at most ${PER_SESSION} commands at once; the next is refused with 429 TOO_FREQUENT`, async () => {
    const { agent, id } = await liveSession();
    const running = [startLong(id, 1), startLong(id, 1)];
    await agent.client.next('exec', PER_SESSION - 1);
    const refused = await api.post(`/api/sessions/${id}/exec`, script, { command: 'true' });
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.match((await assertProblem(refused, 429, 'TOO_FREQUENT')).detail, /at once/);
    assert.equal(agent.client.messages('exec').length, PER_SESSION, 'the refused command never ran');
    // Once one ends, the next one runs.
    running[0]!.controller.abort();
    await running[0]!.response;
    await eventually(
      async () => (await api.post(`/api/sessions/${id}/exec`, script, { command: 'true' })).status === 200,
      'a command runs again',
    );
    running[1]!.controller.abort();
  });

  it('all commands together hold at most the output budget; past it a call is refused with 429 TOO_FREQUENT', async () => {
    const first = await liveSession();
    const second = await liveSession();
    const a = startLong(first.id, CAP);
    const b = startLong(first.id, CAP);
    await first.agent.client.next('exec', 1);
    // 4 MiB of a 5 MiB budget are reserved: another 2 MiB do not fit, 1 MiB does.
    const refused = await api.post(`/api/sessions/${second.id}/exec`, script, {
      command: 'true',
      maxOutputBytes: CAP,
    });
    assert.match((await assertProblem(refused, 429, 'TOO_FREQUENT')).detail, /output/);
    assert.deepEqual(second.agent.client.messages('exec'), [], 'the refused command never ran');
    await expectJson(
      await api.post(`/api/sessions/${second.id}/exec`, script, { command: 'true', maxOutputBytes: MIB }),
      200,
    );
    a.controller.abort();
    b.controller.abort();
    await Promise.all([a.response, b.response]);
    // What the stopped commands held is free again.
    await eventually(
      async () =>
        (
          await api.post(`/api/sessions/${second.id}/exec`, script, {
            command: 'true',
            maxOutputBytes: CAP,
          })
        ).status === 200,
      'the budget freed',
    );
  });

  it('binary output comes back byte for byte in stdoutBase64 and stderrBase64; the text fields stay', async () => {
    const { id } = await liveSession();
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0xc3, 0x28, 0x0a]);
    const octal = [...bytes].map((byte) => `\\${byte.toString(8).padStart(3, '0')}`).join('');
    const result = await expectJson<ExecResult>(
      await api.post(`/api/sessions/${id}/exec`, script, {
        command: `printf '${octal}'; printf '${octal}' >&2`,
        outputEncoding: 'base64',
      }),
      200,
    );
    assert.deepEqual(Buffer.from(result.stdoutBase64!, 'base64'), bytes);
    assert.deepEqual(Buffer.from(result.stderrBase64!, 'base64'), bytes);
    assert.equal(result.stdout, bytes.toString('utf8'), 'the text field is as before');
    const plain = await expectJson<ExecResult>(
      await api.post(`/api/sessions/${id}/exec`, script, { command: 'printf hi' }),
      200,
    );
    assert.equal(plain.stdout, 'hi');
    assert.equal(plain.stdoutBase64, undefined, 'without outputEncoding, no base64 fields');
  });

  it('a large answer is not kept under its Idempotency-Key; a retry is told it ran and does not run it again', async () => {
    const { agent, id } = await liveSession();
    const key = randomUUID();
    const body = { command: `head -c ${IDEMPOTENCY_MAX_STORED_CHARS + 1000} /dev/zero | tr '\\0' x` };
    const first = await expectJson<ExecResult>(
      await api.post(`/api/sessions/${id}/exec`, script, body, { headers: { 'idempotency-key': key } }),
      200,
    );
    assert.equal(first.stdout.length, IDEMPOTENCY_MAX_STORED_CHARS + 1000);
    const rows = await cp.services.db.select({ body: idempotencyKeys.body }).from(idempotencyKeys);
    assert.ok(
      rows.every((row) => row.body.length < IDEMPOTENCY_MAX_STORED_CHARS),
      'no stored answer holds the output',
    );
    const retry = await api.post(`/api/sessions/${id}/exec`, script, body, {
      headers: { 'idempotency-key': key },
    });
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.match((await assertProblem(retry, 409, 'CONFLICT')).detail, /already ran/);
    assert.equal(agent.client.messages('exec').length, 1, 'the command ran once');
  });
});

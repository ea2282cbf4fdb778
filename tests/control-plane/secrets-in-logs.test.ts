import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { describeConfig, loadConfig } from '../../control-plane/config.ts';
import { auditEvents } from '../../control-plane/db/schema.ts';
import { ALL_PERMISSIONS, channelId, DEFAULT_POLICY } from '../../protocol/index.ts';
import { decodeRecording, recordJson } from '../../protocol/recording.ts';
import {
  type ApiClient,
  apiClient,
  type Credentials,
  expectJson,
  freshAddress,
  type GroupView,
  login,
  type Page,
} from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { spawnCollecting, waitFor } from '../support/processes.ts';
import { auditOf, consentedSession, eventually, type RelayClient } from './relay-client.ts';
import { ScriptedAgent } from './scripted-agent.ts';

type ShownConfig = Record<'databaseUrl' | 'masterKey' | 'databaseAuthToken', unknown>;
interface FailedLogin {
  username: string;
  usernameHash?: string;
  operatorId?: string;
  reason: string;
}
interface Command {
  command?: string;
}

describe('the start-up log shows the configuration by allow-list', () => {
  it('LIFELINE_MASTER_KEY and an authToken in the database URL are not in the start-up log', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lifeline-startup-'));
    const masterKey = randomBytes(32).toString('base64url');
    const urlToken = `url-token-${randomBytes(12).toString('hex')}`;
    const envToken = `env-token-${randomBytes(12).toString('hex')}`;
    const adminPassword = `admin-${randomBytes(12).toString('hex')}`;
    const server = spawnCollecting(process.execPath, ['--import', 'tsx', 'control-plane/main.ts'], {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      LIFELINE_DATA_DIR: dataDir,
      LIFELINE_MASTER_KEY: masterKey,
      LIFELINE_DATABASE_URL: `file:${join(dataDir, 'lifeline.db')}?authToken=${urlToken}`,
      LIFELINE_DATABASE_AUTH_TOKEN: envToken,
      LIFELINE_ADMIN_PASSWORD: adminPassword,
    });
    try {
      await waitFor(
        'the control plane to listen',
        () => server.output().includes('"msg":"listening"'),
        60_000,
      );
      const output = server.output();
      const starting = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg: string; config?: ShownConfig })
        .find((line) => line.msg === 'starting');
      assert.ok(starting?.config, output);
      for (const secret of [masterKey, urlToken, envToken, adminPassword])
        assert.ok(!output.includes(secret), `the start-up output holds ${secret.slice(0, 10)}…`);
      // What is shown is still useful: where the database is and where the key comes from.
      assert.equal(starting.config.databaseUrl, `file:${join(dataDir, 'lifeline.db')}`);
      assert.equal(starting.config.masterKey, 'LIFELINE_MASTER_KEY');
      assert.equal(starting.config.databaseAuthToken, 'set');
    } finally {
      await server.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a database URL libSQL refuses stops the server with exit code 2 and a message without its authToken', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lifeline-startup-'));
    const urlToken = `url-token-${randomBytes(12).toString('hex')}`;
    const server = spawnCollecting(process.execPath, ['--import', 'tsx', 'control-plane/main.ts'], {
      ...process.env,
      PORT: '0',
      LIFELINE_DATA_DIR: dataDir,
      // A colon missing: libSQL's error quotes the URL whole, query and all.
      LIFELINE_DATABASE_URL: `libsql//db.example/main?authToken=${urlToken}`,
      LIFELINE_ADMIN_PASSWORD: 'correct horse battery staple',
    });
    try {
      const code = await server.exited;
      assert.ok(!server.output().includes(urlToken), server.output());
      assert.equal(code, 2, server.output());
      assert.match(
        server.output(),
        /LIFELINE_DATABASE_URL is not a URL libSQL accepts \(… \(not a valid URL\), URL_INVALID\)/,
      );
    } finally {
      await server.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a database or public URL is shown with its scheme, host, port and path only', () => {
    const config = loadConfig({
      LIFELINE_DATA_DIR: tmpdir(),
      LIFELINE_DATABASE_URL: 'libsql://bob:db-pass@db.example:8443/main?authToken=query-token&tls=1',
      LIFELINE_PUBLIC_URL: 'https://desk:public-pass@help.example/lifeline?k=query-key',
      LIFELINE_ALLOWED_ORIGINS: 'https://origin-user:origin-pass@console.example',
    });
    const shown = describeConfig(config);
    assert.equal(shown.databaseUrl, 'libsql://db.example:8443/main');
    assert.equal(shown.publicUrl, 'https://help.example/lifeline');
    assert.deepEqual(shown.allowedOrigins, ['https://console.example']);
    assert.equal(shown.masterKey, 'file in the data directory');
    const text = JSON.stringify(shown);
    for (const secret of ['bob', 'db-pass', 'query-token', 'desk', 'public-pass', 'query-key', 'origin-pass'])
      assert.ok(!text.includes(secret), `the described configuration holds ${secret}`);
  });
});

describe('secrets typed by operators are not stored', () => {
  let cp: TestControlPlane;
  let api: ApiClient;
  let cookie: string;
  let admin: Credentials;
  const logs: string[] = [];
  const folders: string[] = [];
  const sockets: RelayClient[] = [];

  /** The recording of an ended session, decoded: its events with their details. */
  async function recordedEvents(sessionId: string) {
    await expectJson(await api.post(`/api/sessions/${sessionId}/end`, admin), 200);
    await eventually(async () => {
      const response = await api.get(`/api/sessions/${sessionId}/recording`, admin);
      return response.status === 200 && ((await response.json()) as { endedAt: unknown }).endedAt !== null;
    }, 'the recording finished');
    const bytes = readFileSync(join(cp.dataDir, 'recordings', `${sessionId}.llrec`));
    const decoded = decodeRecording(bytes);
    assert.ok(decoded.ok, 'the recording decodes');
    const events = decoded.records
      .filter((record) => record.kind === 'event')
      .map((record) => recordJson(record) as { action: string; details?: Command });
    return { events, text: bytes.toString('latin1') };
  }

  before(async () => {
    cp = await startControlPlane({ listen: true, logs });
    api = apiClient(cp);
    cookie = await loginCookie(cp.app);
    admin = { cookie };
    // Every session is recorded, so the event track can be checked too.
    const groups = await expectJson<Page<GroupView>>(await api.get('/api/groups', admin), 200);
    const group = groups.items.find((item) => item.isDefault)!;
    await expectJson(
      await api.put(`/api/groups/${group.id}/policy`, admin, { ...DEFAULT_POLICY, recordingMandatory: true }),
      200,
    );
  });
  after(async () => {
    for (const socket of sockets) await socket.close();
    await cp.stop();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  it('a failed login with a password typed as the username stores a keyed hash of it, not the text', async () => {
    const typed = `Password-typed-as-username-${randomBytes(6).toString('hex')}`;
    const address = freshAddress();
    for (let attempt = 0; attempt < 2; attempt++)
      await expectJson(await login(api, typed, 'anything at all', undefined, address), 401);
    await expectJson(await login(api, `${typed}-other`, 'anything at all', undefined, address), 401);
    await expectJson(await login(api, 'admin', 'not the password', undefined, address), 401);

    const rows = await cp.services.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, 'auth.login-failed'));
    assert.equal(rows.length, 4);
    assert.ok(!JSON.stringify(rows).includes(typed), 'the audit table holds the typed username');
    assert.ok(!logs.join('\n').includes(typed), 'the log holds the typed username');
    const [first, second, other, known] = rows.map((row) => row.details as unknown as FailedLogin);
    assert.equal(first!.username, 'unknown');
    assert.match(String(first!.usernameHash), /^[0-9a-f]{16}$/);
    assert.equal(second!.usernameHash, first!.usernameHash, 'repeated attempts can be correlated');
    assert.notEqual(other!.usernameHash, first!.usernameHash);
    // A username that names an account is harmless: the account is recorded.
    const adminId = (
      await expectJson<{ operator: { id: string } }>(await api.get('/api/auth/me', admin), 200)
    ).operator.id;
    assert.deepEqual(known, { username: 'admin', operatorId: adminId, reason: 'UNAUTHENTICATED' });
  });

  it('a command run over the API is stored with its --password value masked: audit, log and recording', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lifeline-secret-exec-'));
    folders.push(root);
    const agent = await ScriptedAgent.start(cp, root, { consent: { accept: ALL_PERMISSIONS } });
    sockets.push(agent.client);
    await expectJson(await api.post('/api/sessions/redeem', admin, { code: agent.code }), 200);
    const result = await expectJson<{ exitCode: number }>(
      await api.post(`/api/sessions/${agent.sessionId}/exec`, admin, {
        command: 'true --user bob --password=hunter2',
      }),
      200,
    );
    assert.equal(result.exitCode, 0);
    assert.equal(
      agent.client.messages('exec')[0]?.command,
      'true --user bob --password=hunter2',
      'the agent ran it as typed',
    );

    const [exec] = await auditOf(cp, cookie, agent.sessionId, 'session.exec');
    assert.equal((exec?.details as Command | undefined)?.command, 'true --user bob --password=***');
    const { events, text } = await recordedEvents(agent.sessionId);
    const recorded = events.find((event) => event.action === 'session.exec');
    assert.equal(recorded?.details?.command, 'true --user bob --password=***');
    assert.ok(!text.includes('hunter2'), 'the recording holds the password');
    assert.ok(logs.join('\n').includes('--password=***'), 'the command is in the log, masked');
    assert.ok(!logs.join('\n').includes('hunter2'), 'the log holds the password');
    const rows = await cp.services.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.sessionId, agent.sessionId));
    assert.ok(!JSON.stringify(rows).includes('hunter2'), 'the audit table holds the password');
  });

  it('a command sent over the relay by a console is stored with its secrets masked: audit, log and recording', async () => {
    const { agent, operator, welcome, registration } = await consentedSession(cp, cookie, ALL_PERMISSIONS);
    sockets.push(agent, operator);
    const channel = channelId(welcome.slot!, 1);
    const command = 'MYSQL_PWD=s3cr3t-env mysql -u root -ps3cr3t-opt shop';
    operator.send({ type: 'exec', channel, command, timeoutMs: 10_000, maxOutputBytes: 1000 });
    assert.equal((await agent.next('exec')).command, command, 'the agent gets it as typed');

    const masked = 'MYSQL_PWD=*** mysql -u root -p*** shop';
    await eventually(
      async () => (await auditOf(cp, cookie, registration.sessionId, 'session.exec')).length === 1,
      'the command audited',
    );
    const [exec] = await auditOf(cp, cookie, registration.sessionId, 'session.exec');
    assert.equal((exec?.details as Command | undefined)?.command, masked);
    const { events, text } = await recordedEvents(registration.sessionId);
    assert.equal(events.find((event) => event.action === 'session.exec')?.details?.command, masked);
    for (const secret of ['s3cr3t-env', 's3cr3t-opt']) {
      assert.ok(!text.includes(secret), `the recording holds ${secret}`);
      assert.ok(!logs.join('\n').includes(secret), `the log holds ${secret}`);
    }
  });
});

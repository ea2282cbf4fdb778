import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { Relay } from '../../control-plane/relay/relay.ts';
import { CloseCode, type Permissions } from '../../protocol/index.ts';
import { connectScript, createScriptSession, spawnAgent } from '../support/agent-process.ts';
import {
  type ApiClient,
  type AuditEvent,
  apiClient,
  cookieOf,
  createToken,
  expectJson,
  login,
  type Page,
  type SessionView,
} from '../support/api.ts';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  freePort,
  loginCookie,
  startControlPlane,
} from '../support/control-plane.ts';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.ts';
import { permissionsWith } from '../support/permissions.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';
import { consentedSession, eventually, joinOperator, RelayClient, relayUrl } from './relay-client.ts';

/** How long the control plane waits for agents after a restart, and the agent retries, in seconds. */
const GRACE_SECONDS = 60;
/** How long a test waits for a restarted control plane's agent to come back, in milliseconds. Generous. */
const RETURN_WAIT_MS = 60_000;

interface ExecResult {
  exitCode: number;
  stdout: string;
}

/**
 * The real control plane process, stopped (SIGTERM) or killed (SIGKILL) and started again on the
 * same data directory and port, with the real agent process on the other end: live sessions carry
 * on when their agent comes back within the grace period, and end as `server-restart` when it does not.
 */
describe('live sessions survive a restart of the control plane', () => {
  let xvfb: Xvfb;
  let dataDir: string;
  let port: number;
  let cp: ControlPlaneProcess | undefined;
  let agent: Spawned | undefined;
  const shared = realpathSync(mkdtempSync(join(tmpdir(), 'lifeline-restart-files-')));

  before(async () => {
    xvfb = await startXvfb({ width: 320, height: 240 });
  });

  afterEach(async () => {
    await agent?.kill();
    await cp?.stop('SIGTERM');
    agent = undefined;
    cp = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  after(async () => {
    await xvfb?.stop();
    rmSync(shared, { recursive: true, force: true });
  });

  async function start(graceSeconds: number): Promise<{ api: ApiClient; admin: { cookie: string } }> {
    cp = await startControlPlaneProcess({
      dataDir,
      port,
      env: { LIFELINE_AGENT_GRACE_SECONDS: String(graceSeconds) },
    });
    const api = apiClient(cp);
    const response = await login(api, ADMIN_USERNAME, ADMIN_PASSWORD);
    await expectJson(response, 200);
    return { api, admin: { cookie: cookieOf(response) } };
  }

  /** A control plane, a script's token, and a real agent that joined a session and accepted. */
  async function sessionWithAgent() {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-restart-'));
    port = await freePort();
    const { api, admin } = await start(GRACE_SECONDS);
    const script = {
      token: (await createToken(api, admin, ['sessions:read', 'sessions:write', 'exec'], 'restart-script'))
        .token,
    };
    const { sessionId, code } = await createScriptSession(api, script);
    agent = spawnAgent({
      server: cp!.url,
      display: xvfb.display,
      code,
      allow: ['chat', 'shell'],
      filesRoot: shared,
      args: ['--reconnect-grace', String(GRACE_SECONDS)],
    });
    await connectScript(api, script, sessionId, agent, ['shell']);
    return { sessionId, script, admin };
  }

  /** Runs a command, retrying while the agent is not back yet (409 AGENT_OFFLINE); anything else is the answer. */
  async function execOnceBack(api: ApiClient, script: { token: string }, sessionId: string, command: string) {
    const response = await waitFor(
      `the agent to come back (${agent?.output().slice(-500)})`,
      async () => {
        const answer = await api.post(`/api/sessions/${sessionId}/exec`, script, { command });
        if (answer.status !== 409) return answer;
        const text = await answer.text();
        return (JSON.parse(text) as { code: string }).code !== 'AGENT_OFFLINE' && new Response(text, answer);
      },
      RETURN_WAIT_MS,
    );
    return expectJson<ExecResult>(response, 200);
  }

  /** An operator's socket on the session, through the console's path (a join grant, then a hello). */
  async function joinConsole(api: ApiClient, admin: { cookie: string }, sessionId: string) {
    const grant = await expectJson<{ relay: { url: string; token: string } }>(
      await api.post(`/api/sessions/${sessionId}/join`, admin),
      200,
    );
    const operator = await RelayClient.connect(grant.relay.url, {
      hello: { role: 'operator', token: grant.relay.token },
    });
    await operator.next('welcome');
    return operator;
  }

  async function auditOf(api: ApiClient, admin: { cookie: string }, sessionId: string, action: string) {
    return (
      await expectJson<Page<AuditEvent>>(
        await api.get(`/api/audit-events?sessionId=${sessionId}&action=${action}`, admin),
        200,
      )
    ).items;
  }

  it('the session goes on after a SIGTERM and after a kill -9: same session, commands run, consent not asked again', {
    timeout: 300_000,
  }, async () => {
    const { sessionId, script, admin: firstAdmin } = await sessionWithAgent();
    let api = apiClient(cp!);
    assert.equal(
      (await execOnceBack(api, script, sessionId, 'echo before')).stdout,
      'before\n',
      agent!.output(),
    );

    // An operator's console on the session is told the server restarts, not that the session ended.
    const watching = await joinConsole(api, firstAdmin, sessionId);
    assert.equal(await cp!.stop('SIGTERM'), 0, 'a graceful stop exits 0');
    assert.equal((await watching.waitClosed()).code, CloseCode.serviceRestart);
    assert.deepEqual(watching.messages('end'), []);
    ({ api } = await start(GRACE_SECONDS));
    assert.equal(
      (await execOnceBack(api, script, sessionId, 'echo after-sigterm')).stdout,
      'after-sigterm\n',
    );

    assert.equal(await cp!.stop('SIGKILL'), null, 'killed');
    const { api: restarted, admin } = await start(GRACE_SECONDS);
    assert.equal(
      (await execOnceBack(restarted, script, sessionId, 'echo after-kill')).stdout,
      'after-kill\n',
    );

    const session = await expectJson<SessionView>(
      await restarted.get(`/api/sessions/${sessionId}`, admin),
      200,
    );
    assert.equal(session.id, sessionId);
    assert.equal(session.status, 'active');
    assert.equal(agent!.child.exitCode, null, 'the agent is still running');
    assert.equal((await auditOf(restarted, admin, sessionId, 'session.consent')).length, 1, 'asked once');
    assert.equal((await auditOf(restarted, admin, sessionId, 'session.resume')).length, 2);
    assert.deepEqual(await auditOf(restarted, admin, sessionId, 'session.end'), []);

    // An operator's console joins the resumed session and finds it consented, with its permissions:
    // the agent lets in at once an operator the user already let in (README "Several operators").
    const operator = await joinConsole(restarted, admin, sessionId);
    const consent = await operator.next('consent');
    assert.deepEqual([consent.accepted, consent.permissions.shell], [true, true]);
    await operator.close();
  });

  it('a session whose agent does not come back within the grace period ends as server-restart, audited', {
    timeout: 300_000,
  }, async () => {
    const { sessionId } = await sessionWithAgent();
    assert.equal(await cp!.stop('SIGKILL'), null, 'killed');
    // The device goes away too while the control plane is down: it never comes back.
    await agent!.kill();
    const { api, admin } = await start(1);
    const ended = await waitFor('the session to end', async () => {
      const session = await expectJson<SessionView>(await api.get(`/api/sessions/${sessionId}`, admin), 200);
      return session.status === 'ended' && session;
    });
    assert.equal(ended.endReason, 'server-restart');
    const audited = await auditOf(api, admin, sessionId, 'session.end');
    assert.equal(audited.length, 1);
    assert.equal(audited[0]!.actorType, 'system');
    assert.deepEqual(audited[0]!.details, { reason: 'server-restart' });
  });
});

describe('a session resumed after a restart goes on with what the end user allowed last', () => {
  it('permissions changed before the restart are the ones operators find after it, without a new consent', async () => {
    const cp = await startControlPlane({ listen: true, env: { LIFELINE_AGENT_GRACE_SECONDS: '30' } });
    const cookie = await loginCookie(cp.app);
    const sockets: RelayClient[] = [];
    try {
      const first: Permissions = permissionsWith({ view: true, control: true, chat: true });
      const { agent, operator, registration } = await consentedSession(cp, cookie, first);
      sockets.push(agent, operator);
      const changed: Permissions = permissionsWith({ view: true, chat: true, files: true });
      agent.send({ type: 'permissions', permissions: changed });
      await operator.next('permissions');
      await eventually(
        async () =>
          JSON.stringify((await cp.services.store.get(registration.sessionId))?.permissions) ===
          JSON.stringify(changed),
        'the change to be stored',
      );

      // A restart in process: the sockets close as a service restart and a new relay takes over.
      await cp.services.relay.shutdown();
      assert.equal((await agent.waitClosed()).code, CloseCode.serviceRestart);
      assert.deepEqual(agent.messages('end'), [], 'the agent is not told the session ended');
      const next = new Relay({ ...cp.services, agentGraceMs: 30_000 });
      cp.services.relay = next;
      const leftOpen = await cp.services.store.leftOpen(cp.services.node);
      assert.deepEqual(await next.resumeLeftOpen(leftOpen), { waiting: 1, ended: 0 });

      const back = await RelayClient.connect(relayUrl(cp), {
        hello: { role: 'agent', token: registration.relay.token },
      });
      sockets.push(back);
      await back.next('welcome');
      const { operator: rejoined, welcome } = await joinOperator(cp, registration.sessionId, cookie);
      sockets.push(rejoined);
      assert.deepEqual(welcome.permissions, changed);
      assert.deepEqual((await rejoined.next('consent')).permissions, changed);
      assert.equal(rejoined.messages('end').length, 0);
    } finally {
      for (const socket of sockets) await socket.close();
      await cp.stop();
    }
  });
});

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { installWebSocket } from '../../agent/node/websocket.ts';
import { END_WRITES_AT_ONCE, Relay } from '../../control-plane/relay/relay.ts';
import { agentCore } from '../support/agent-core.ts';
import { spawnAgent } from '../support/agent-process.ts';
import { apiClient, expectJson } from '../support/api.ts';
import {
  loginCookie,
  registerAgent,
  startControlPlane,
  type TestControlPlane,
} from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';
import { connectOperator, eventually } from './relay-client.ts';

/** The relay's ping interval in these tests: short, so that several pass within a test. */
const PING_SECONDS = 0.5;

interface SessionState {
  status: string;
  endReason: string | null;
  agentConnected: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the relay and its peers notice a silent connection', () => {
  let cp: TestControlPlane | undefined;
  let agent: Spawned | undefined;
  let xvfb: Xvfb | undefined;
  afterEach(async () => {
    if (agent) agent.child.kill('SIGCONT');
    await agent?.kill();
    agent = undefined;
    await cp?.stop();
    cp = undefined;
    await xvfb?.stop();
    xvfb = undefined;
  });

  it('a frozen agent is reported disconnected within a few pings, its session ends after the grace period, and an idle healthy one stays connected', async () => {
    xvfb = await startXvfb({ width: 320, height: 240 });
    cp = await startControlPlane({
      listen: true,
      env: { LIFELINE_PING_SECONDS: String(PING_SECONDS), LIFELINE_AGENT_GRACE_SECONDS: '6' },
    });
    const api = apiClient(cp);
    const admin = { cookie: await loginCookie(cp.app) };
    const created = await expectJson<{ session: { id: string }; code: string }>(
      await api.post('/api/sessions', admin, {}),
      201,
    );
    const id = created.session.id;
    agent = spawnAgent({ server: cp.url, display: xvfb.display, code: created.code });
    const connected = await expectJson<{ reached: boolean }>(
      await api.get(`/api/sessions/${id}/wait?until=agent-connected&timeout=30`, admin),
      200,
    );
    assert.equal(connected.reached, true, agent.output());
    const state = async () => expectJson<SessionState>(await api.get(`/api/sessions/${id}`, admin), 200);

    // Idle but healthy: many ping intervals pass and nothing is cut.
    await sleep(PING_SECONDS * 1000 * 8);
    const idle = await state();
    assert.equal(idle.agentConnected, true, `an idle agent stays connected: ${agent.output()}`);
    assert.notEqual(idle.status, 'ended');

    // A frozen machine: its socket stays open, and silent.
    agent.child.kill('SIGSTOP');
    const gone = await waitFor(
      'the API to report the frozen agent disconnected',
      async () => {
        const now = await state();
        return now.agentConnected ? false : now;
      },
      PING_SECONDS * 1000 * 20,
    );
    assert.notEqual(gone.status, 'ended', 'reported disconnected already during its grace period');
    const ended = await expectJson<SessionState>(
      await api.get(`/api/sessions/${id}/wait?until=ended&timeout=30`, admin),
      200,
    );
    assert.equal(ended.status, 'ended');
    assert.equal(ended.endReason, 'agent-disconnected');

    // Thawed after the grace period: it finds its session ended and stops.
    agent.child.kill('SIGCONT');
    const code = await Promise.race([agent.exited, sleep(30_000).then(() => 'running' as const)]);
    assert.notEqual(code, 'running', `the agent exits: ${agent.output()}`);
  });

  it('the agent core gives up a relay that went silent and reconnects to it within the grace period', async () => {
    await installWebSocket();
    cp = await startControlPlane({
      listen: true,
      env: { LIFELINE_PING_SECONDS: String(PING_SECONDS), LIFELINE_AGENT_GRACE_SECONDS: '30' },
    });
    const proxy = await startTcpProxy(Number(new URL(cp.url).port));
    const registration = await registerAgent(cp.app);
    const { session, statuses } = agentCore(
      `ws://127.0.0.1:${proxy.port}/ws`,
      registration.relay.token,
      30_000,
    );
    await session.connect();
    const { operator, grant } = await connectOperator(cp, registration.code);
    await operator.next('consent');

    proxy.freeze();
    await eventually(
      () => statuses.includes('Reconnected.'),
      `the agent to reconnect (${statuses.join(' | ')})`,
      PING_SECONDS * 1000 * 30,
    );
    assert.equal(proxy.connections(), 2, 'the agent opened a new connection');
    const view = await expectJson<SessionState>(
      await apiClient(cp).get(`/api/sessions/${grant.session.id}`, { cookie: await loginCookie(cp.app) }),
      200,
    );
    assert.equal(view.status, 'active');
    assert.equal(operator.messages('end').length, 0);
    await session.end();
    await operator.close();
    await proxy.close();
  });

  it('sessions whose agents all stay away end a few database writes at a time, every one of them', async () => {
    cp = await startControlPlane();
    const registrations = [];
    for (let i = 0; i < 24; i++) registrations.push(await registerAgent(cp.app));
    const rows = [];
    for (const { sessionId } of registrations) rows.push((await cp.services.store.get(sessionId))!);
    const store = cp.services.store;
    const markEnded = store.markEnded.bind(store);
    let writing = 0;
    let most = 0;
    // Each write takes a moment, as on a database server across the network.
    store.markEnded = async (...args: Parameters<typeof markEnded>) => {
      most = Math.max(most, ++writing);
      try {
        await sleep(50);
        return await markEnded(...args);
      } finally {
        writing--;
      }
    };
    // The relay of a restarted node takes over sessions whose agents (a whole site) never come back.
    const relay = new Relay({ ...cp.services, agentGraceMs: 50 });
    await relay.resumeLeftOpen(rows);
    for (const { sessionId } of registrations) {
      await eventually(
        async () => (await store.get(sessionId))?.status === 'ended',
        'every session to end',
        10_000,
      );
    }
    assert.ok(most <= END_WRITES_AT_ONCE, `at most ${END_WRITES_AT_ONCE} end writes at once, saw ${most}`);
    await relay.shutdown();
  });
});

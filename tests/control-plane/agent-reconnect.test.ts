import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { installWebSocket } from '../../agent/node/websocket.ts';
import { DEFAULT_POLICY, encodeVideo } from '../../protocol/index.ts';
import { agentCore } from '../support/agent-core.ts';
import { registerAgent, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import {
  connectAgent,
  connectOperator,
  eventually,
  RelayClient,
  relayUrl,
  sessionOf,
} from './relay-client.ts';

const KEYFRAME = encodeVideo({
  keyframe: true,
  sequence: 1,
  captureTime: Date.now(),
  data: new Uint8Array([0, 0, 0, 1, 9, 16]),
});

describe('a dropped agent connection comes back within the grace period', () => {
  let cp: TestControlPlane | undefined;
  afterEach(async () => {
    await cp?.stop();
    cp = undefined;
  });

  it('operators are told, the session stays active, and the agent resumes with its token', async () => {
    cp = await startControlPlane({ listen: true, env: { LIFELINE_AGENT_GRACE_SECONDS: '10' } });
    const { agent, registration } = await connectAgent(cp);
    const { operator, grant } = await connectOperator(cp, registration.code, { keepVideoData: true });
    await agent.next('operator-joined');
    agent.send({
      type: 'consent',
      accepted: true,
      permissions: { ...DEFAULT_POLICY.modes, files: false, shell: false },
    });
    await operator.next('consent');

    await agent.close();
    assert.equal((await operator.next('agent-status')).state, 'reconnecting');
    assert.equal((await sessionOf(cp, grant.session.id)).status, 'active', 'the session waits');

    const back = await RelayClient.connect(relayUrl(cp), {
      hello: { role: 'agent', token: registration.relay.token },
    });
    await back.next('welcome');
    assert.equal((await operator.next('agent-status', 1)).state, 'connected');
    await back.sendBytes(KEYFRAME);
    await operator.until(() => operator.videos().length > 0, 'video from the reconnected agent');
    assert.equal(operator.messages('end').length, 0);
    await back.close();
    await operator.close();
  });

  it('an agent that does not come back in time ends the session as agent-disconnected', async () => {
    cp = await startControlPlane({ listen: true, env: { LIFELINE_AGENT_GRACE_SECONDS: '1' } });
    const { agent, registration } = await connectAgent(cp);
    const { operator, grant } = await connectOperator(cp, registration.code);
    await agent.close();
    await operator.next('agent-status');
    assert.equal((await operator.next('end', 0, 5_000)).reason, 'agent-disconnected');
    await eventually(
      async () => (await sessionOf(cp!, grant.session.id)).status === 'ended',
      'the session to end',
    );
    await operator.close();
  });

  it('the real agent core reconnects by itself after the network drops, and keeps the consent', async () => {
    await installWebSocket();
    cp = await startControlPlane({ listen: true, env: { LIFELINE_AGENT_GRACE_SECONDS: '10' } });
    const proxy = await startTcpProxy(Number(new URL(cp.url).port));
    const registration = await registerAgent(cp.app);
    const { session, statuses } = agentCore(
      `ws://127.0.0.1:${proxy.port}/ws`,
      registration.relay.token,
      10_000,
    );
    await session.connect();
    const { operator } = await connectOperator(cp, registration.code);
    await operator.next('consent');

    proxy.cut();
    assert.equal((await operator.next('agent-status')).state, 'reconnecting');
    assert.equal((await operator.next('agent-status', 1, 10_000)).state, 'connected');
    await eventually(
      () => statuses.includes('Reconnected.'),
      `the agent to say so (${statuses.join(' | ')})`,
    );
    assert.equal(operator.messages('end').length, 0);
    assert.equal(operator.messages('consent').length, 1, 'the user was not asked again');
    await session.end();
    assert.equal((await operator.next('end')).reason, 'user-ended');
    await operator.close();
    await proxy.close();
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_POLICY, type GuidanceMark, type Permissions } from '../../protocol/index.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { permissionsWith } from '../support/permissions.ts';
import { setDefaultGroupPolicy } from '../support/policies.ts';
import { connectAgent, connectOperator, type RelayClient } from './relay-client.ts';

const VIEW_ONLY: Permissions = permissionsWith({ view: true, chat: true });
const WITH_GUIDANCE: Permissions = { ...VIEW_ONLY, guidance: true };
const ARROW: GuidanceMark = { kind: 'arrow', from: { x: 0.1, y: 0.1 }, to: { x: 0.5, y: 0.5 } };

describe('guidance marks through the relay', () => {
  let cp: TestControlPlane;
  let cookie: string;
  const sockets: RelayClient[] = [];

  before(async () => {
    cp = await startControlPlane({ listen: true });
    cookie = await loginCookie(cp.app);
  });
  after(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
    await cp.stop();
  });

  async function pair(consent: Permissions) {
    const { agent, registration } = await connectAgent(cp);
    const { operator, welcome } = await connectOperator(cp, registration.code, { cookie });
    sockets.push(agent, operator);
    await agent.next('operator-joined');
    agent.send({ type: 'consent', accepted: true, permissions: consent });
    await operator.next('consent');
    return { agent, operator, slot: welcome.slot };
  }

  /** The relay handles one socket's frames in order: once the end arrives, the marks were handled. */
  async function endAndCollect(agent: RelayClient, operator: RelayClient) {
    operator.send({ type: 'end', reason: 'operator-ended' });
    await agent.next('end');
    return agent.messages('guidance');
  }

  it('guidance from an operator the user did not allow guidance is dropped before the device', async () => {
    const { agent, operator } = await pair(VIEW_ONLY);
    operator.send({ type: 'guidance', mark: ARROW });
    operator.send({ type: 'guidance', mark: { kind: 'clear' } });
    assert.deepEqual(await endAndCollect(agent, operator), []);
  });

  it("guidance the user allows reaches the device with the sender's slot and colour, and stops when it is revoked", async () => {
    const { agent, operator, slot } = await pair(WITH_GUIDANCE);
    operator.send({ type: 'guidance', mark: ARROW });
    // The session's first operator draws in the palette's first colour.
    assert.deepEqual(await agent.next('guidance'), { type: 'guidance', mark: ARROW, slot, colour: 0 });
    agent.send({ type: 'permissions', permissions: VIEW_ONLY });
    await operator.next('permissions');
    operator.send({ type: 'guidance', mark: { kind: 'pointer', at: { x: 0.5, y: 0.5 } } });
    assert.equal((await endAndCollect(agent, operator)).length, 1);
  });

  it('a policy forbidding guidance keeps marks from the device even when the user allowed them', async () => {
    await setDefaultGroupPolicy(cp, cookie, {
      ...DEFAULT_POLICY,
      modes: { ...DEFAULT_POLICY.modes, guidance: false },
    });
    const { agent, operator } = await pair(WITH_GUIDANCE);
    operator.send({ type: 'guidance', mark: ARROW });
    assert.deepEqual(await endAndCollect(agent, operator), []);
  });
});

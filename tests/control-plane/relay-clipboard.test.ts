import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_POLICY, NO_PERMISSIONS, type Permissions } from '../../protocol/index.ts';
import { auditOf, eventually, joinOperator, type RelayClient, useRelayPlane } from './relay-client.ts';

const VIEW_ONLY: Permissions = { ...NO_PERMISSIONS, view: true };
const WITH_CLIPBOARD: Permissions = { ...VIEW_ONLY, clipboard: true };

describe('relay: clipboard text, monitor choice, the cursor and round trips', () => {
  const relay = useRelayPlane();

  /** Resolves once the relay passed on everything the agent sent before it answered this ping. */
  async function settled(agent: RelayClient, operator: RelayClient, id: number): Promise<void> {
    operator.send({ type: 'ping', id });
    const ping = await agent.next('ping', agent.messages('ping').length);
    agent.send({ type: 'pong', id: ping.id, ...(ping.slot === undefined ? {} : { slot: ping.slot }) });
    await operator.until(() => operator.messages('pong').some((pong) => pong.id === id), 'the pong');
  }

  it("an operator's clipboard text is refused with CAPABILITY_NOT_ALLOWED until the user allows it", async () => {
    const { agent, operator } = await relay.session(VIEW_ONLY);
    operator.send({ type: 'clipboard', text: 'secret' });
    const refusal = await operator.next('error');
    assert.equal(refusal.code, 'CAPABILITY_NOT_ALLOWED');
    assert.match(refusal.message, /"Clipboard"/);
    agent.send({ type: 'clipboard', text: 'from the device' });
    await settled(agent, operator, 1);
    assert.deepEqual(agent.messages('clipboard'), []);
    assert.deepEqual(operator.messages('clipboard'), []);
  });

  it('once allowed, text goes both ways and each copy is audited with its length and direction only', async () => {
    const { agent, operator, sessionId } = await relay.session(WITH_CLIPBOARD);
    operator.send({ type: 'clipboard', text: 'to the device' });
    assert.deepEqual(await agent.next('clipboard'), { type: 'clipboard', text: 'to the device' });
    agent.send({ type: 'clipboard', text: 'from the device!' });
    assert.deepEqual(await operator.next('clipboard'), { type: 'clipboard', text: 'from the device!' });
    await eventually(
      async () => (await auditOf(relay.cp, relay.cookie, sessionId, 'session.clipboard')).length === 2,
      'two audit entries',
    );
    const entries = await auditOf(relay.cp, relay.cookie, sessionId, 'session.clipboard');
    assert.deepEqual(entries.map((entry) => entry.details).reverse(), [
      { direction: 'to-device', length: 13 },
      { direction: 'from-device', length: 16 },
    ]);
    assert.doesNotMatch(JSON.stringify(entries), /the device/);
  });

  it('a monitor choice reaches the agent only while the user lets the operators see the screen', async () => {
    const { agent, operator } = await relay.session({ ...VIEW_ONLY, view: false });
    operator.send({ type: 'select-monitor', monitor: 1 });
    await settled(agent, operator, 2);
    assert.deepEqual(agent.messages('select-monitor'), []);
    agent.send({ type: 'permissions', permissions: VIEW_ONLY });
    await operator.next('permissions');
    operator.send({ type: 'select-monitor', monitor: 1 });
    assert.deepEqual(await agent.next('select-monitor'), { type: 'select-monitor', monitor: 1 });
  });

  it('the monitor list is kept for an operator who joins later; a pong goes back only to whom pinged', async () => {
    const { agent, operator, sessionId } = await relay.session(VIEW_ONLY);
    const monitors = {
      type: 'monitors' as const,
      monitors: [
        { name: 'A', x: 0, y: 0, width: 640, height: 480, primary: true },
        { name: 'B', x: 640, y: 0, width: 640, height: 480, primary: false },
      ],
      selected: null,
    };
    agent.send(monitors);
    assert.deepEqual(await operator.next('monitors'), monitors);
    const second = (await joinOperator(relay.cp, sessionId, relay.cookie)).operator;
    relay.sockets.push(second);
    assert.deepEqual(await second.next('monitors'), monitors);
    await settled(agent, second, 3);
    await settled(agent, operator, 4);
    assert.deepEqual(
      operator.messages('pong').map((pong) => pong.id),
      [4],
    );
  });

  it('the cursor reaches operators only while the user lets them see the screen, and one who joins later gets the last', async () => {
    const { agent, operator, sessionId } = await relay.session({ ...VIEW_ONLY, view: false });
    const shape = {
      type: 'cursor-shape' as const,
      width: 1,
      height: 1,
      hotX: 0,
      hotY: 0,
      rgba: Buffer.from([255, 255, 255, 255]).toString('base64'),
    };
    agent.send(shape);
    agent.send({ type: 'cursor-position', x: 5, y: 6 });
    await settled(agent, operator, 5);
    assert.deepEqual(operator.messages('cursor-shape'), []);
    assert.deepEqual(operator.messages('cursor-position'), []);

    agent.send({ type: 'permissions', permissions: VIEW_ONLY });
    await operator.next('permissions');
    agent.send(shape);
    agent.send({ type: 'cursor-position', x: 7, y: 8 });
    assert.deepEqual(await operator.next('cursor-shape'), shape);
    assert.deepEqual(await operator.next('cursor-position'), { type: 'cursor-position', x: 7, y: 8 });

    const second = (await joinOperator(relay.cp, sessionId, relay.cookie)).operator;
    relay.sockets.push(second);
    assert.deepEqual(await second.next('cursor-shape'), shape);
    assert.deepEqual(await second.next('cursor-position'), { type: 'cursor-position', x: 7, y: 8 });
  });

  it('under a policy that forbids the clipboard nothing passes, even when the agent claims it is allowed', async () => {
    const groups = (await (
      await relay.cp.app.request('/api/groups', { headers: { cookie: relay.cookie } })
    ).json()) as {
      items: { id: string }[];
    };
    for (const group of groups.items) {
      const response = await relay.cp.app.request(`/api/groups/${group.id}/policy`, {
        method: 'PUT',
        headers: { cookie: relay.cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ ...DEFAULT_POLICY, modes: { ...DEFAULT_POLICY.modes, clipboard: false } }),
      });
      assert.equal(response.status, 200, await response.text());
    }
    const { agent, operator } = await relay.session(WITH_CLIPBOARD);
    operator.send({ type: 'clipboard', text: 'nope' });
    assert.equal((await operator.next('error')).code, 'CAPABILITY_NOT_ALLOWED');
    agent.send({ type: 'clipboard', text: 'nope either' });
    await settled(agent, operator, 5);
    assert.deepEqual(agent.messages('clipboard'), []);
    assert.deepEqual(operator.messages('clipboard'), []);
  });
});

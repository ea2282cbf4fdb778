import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_PERMISSIONS, type Permissions } from '../../protocol/index.ts';
import { auditOf, eventually, useRelayPlane } from './relay-client.ts';

const NOTHING: Permissions = { ...NO_PERMISSIONS };
const VIEW_CHAT: Permissions = { ...NOTHING, view: true, chat: true };

describe('relay: an operator asks the end user for more', () => {
  const relay = useRelayPlane();

  /** An agent and one operator; the end user answered with `consent` unless 'unanswered'. */
  const session = (consent: Permissions | 'unanswered' = VIEW_CHAT) => relay.session(consent);

  const audit = (sessionId: string, action: string) => auditOf(relay.cp, relay.cookie, sessionId, action);

  it('is passed to the agent with the operator stamped by the relay, and audited', async () => {
    const { agent, operator, sessionId } = await session();
    operator.send({
      type: 'permission-request',
      requested: { ...NOTHING, files: true },
      operator: { id: 'someone-else', name: 'Mallory' },
    });
    const forwarded = await agent.next('permission-request');
    assert.deepEqual(forwarded.requested, { ...NOTHING, files: true });
    assert.equal(forwarded.operator?.id, relay.operatorId);
    assert.notEqual(forwarded.operator?.name, 'Mallory');
    await eventually(
      async () => (await audit(sessionId, 'session.permission-request')).length === 1,
      'the audit entry',
    );
    const [entry] = await audit(sessionId, 'session.permission-request');
    assert.equal(entry?.actorId, relay.operatorId);
    assert.deepEqual(entry?.details, { requested: { ...NOTHING, files: true } });
    // The agent's answer reaches the operator.
    agent.send({ type: 'permissions', permissions: { ...VIEW_CHAT, files: true } });
    assert.equal((await operator.next('permissions')).permissions.files, true);
  });

  it('is not passed on before the end user consented', async () => {
    const { agent, operator } = await session('unanswered');
    const dropped = relay.cp.services.relay.stats().droppedPermissionRequests;
    operator.send({ type: 'permission-request', requested: { ...NOTHING, files: true } });
    await eventually(
      () => relay.cp.services.relay.stats().droppedPermissionRequests === dropped + 1,
      'the request counted as dropped',
    );
    // A chat refusal round trip proves the relay handled the request before it.
    operator.send({ type: 'chat', id: 'c1', text: 'hi' });
    await operator.next('error');
    assert.equal(agent.messages('permission-request').length, 0);
  });

  it('asking for what is already allowed is answered by the relay with the permissions, not passed on', async () => {
    const { agent, operator } = await session();
    operator.send({ type: 'permission-request', requested: { ...NOTHING, view: true, chat: true } });
    assert.deepEqual((await operator.next('permissions')).permissions, VIEW_CHAT);
    assert.equal(agent.messages('permission-request').length, 0);
  });

  it('a connection may ask once per 10 s: a second request is dropped and counted', async () => {
    const { agent, operator } = await session();
    const dropped = relay.cp.services.relay.stats().droppedPermissionRequests;
    operator.send({ type: 'permission-request', requested: { ...NOTHING, files: true } });
    operator.send({ type: 'permission-request', requested: { ...NOTHING, shell: true } });
    await agent.next('permission-request');
    await eventually(
      () => relay.cp.services.relay.stats().droppedPermissionRequests === dropped + 1,
      'the request counted as dropped',
    );
    assert.equal(agent.messages('permission-request').length, 1);
    assert.equal(agent.messages('permission-request')[0]?.requested.files, true);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  decodeFrame,
  encodeControl,
  encodeVideo,
  type MessageOf,
  type Permissions,
} from '../../protocol/index.ts';
import { apiClient, createOperator } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { permissionsWith } from '../support/permissions.ts';
import {
  auditOf,
  closeAll,
  connectAgent,
  connectOperator,
  eventually,
  joinOperator,
  type RelayClient,
} from './relay-client.ts';

// Several operators in one session (README "Several operators"), at the relay: an agent that says
// `operators` in its features asks the end user before each additional operator, and one operator
// connection at a time holds control.

const WITH_CONTROL: Permissions = permissionsWith({ view: true, control: true, chat: true });
const AGENT = { name: 'test-agent', version: '0.0.0', os: 'linux', features: ['chat', 'operators'] };

describe('several operators in one session', () => {
  let cp: TestControlPlane;
  let adminCookie: string;
  let technician: { id: string; cookie: string };
  let colleague: { id: string; cookie: string };
  const sockets: RelayClient[] = [];

  before(async () => {
    cp = await startControlPlane({ listen: true });
    adminCookie = await loginCookie(cp.app);
    const api = apiClient(cp);
    const me = (await (
      await cp.app.request('/api/auth/me', { headers: { cookie: adminCookie } })
    ).json()) as {
      operator: { organisationId: string };
    };
    const make = async (username: string) => {
      const made = await createOperator(
        api,
        { cookie: adminCookie },
        { username, role: 'technician', organisationId: me.operator.organisationId },
      );
      return { id: made.operator.id, cookie: made.cookie };
    };
    technician = await make('tech-one');
    colleague = await make('tech-two');
  });

  after(() => closeAll(sockets, cp));

  /** An agent that asks for each operator, a first operator it accepted, and a second one waiting. */
  async function twoOperators(second: 'waiting' | 'admitted', secondCookie = colleague.cookie) {
    const { agent, registration } = await connectAgent(cp, { client: AGENT });
    sockets.push(agent);
    const first = await connectOperator(cp, registration.code, { cookie: technician.cookie });
    sockets.push(first.operator);
    const joined = await agent.next('operator-joined');
    agent.send({ type: 'consent', accepted: true, permissions: WITH_CONTROL, slot: joined.slot! });
    await first.operator.next('consent');
    const participants = await first.operator.next('participants');
    const { operator, welcome } = await joinOperator(cp, registration.sessionId, secondCookie);
    sockets.push(operator);
    const asked = await agent.next('operator-joined', 1);
    if (second === 'admitted') {
      agent.send({ type: 'join-answer', slot: asked.slot!, accepted: true });
      await operator.next('consent');
      await operator.next('participants');
    }
    return {
      agent,
      sessionId: registration.sessionId,
      first: first.operator,
      firstSlot: joined.slot!,
      second: operator,
      secondSlot: asked.slot!,
      secondWelcome: welcome,
      participants,
    };
  }

  /** The last `participants` message a client received. */
  function lastParticipants(client: RelayClient): MessageOf<'participants'> | undefined {
    return client.messages('participants').at(-1);
  }

  it('an additional operator waits until the end user lets them in and hears nothing of the session meanwhile', async () => {
    const s = await twoOperators('waiting');
    assert.equal(
      s.secondWelcome.permissions,
      undefined,
      'no permissions in the welcome of a waiting operator',
    );
    assert.deepEqual(
      s.participants.operators.map((o) => o.id),
      [technician.id],
    );
    assert.equal(s.participants.controlSlot, s.firstSlot, 'the first operator let in holds control');

    await s.agent.sendBytes(
      encodeVideo({ keyframe: true, sequence: 0, captureTime: 1, data: new Uint8Array([0, 0, 0, 1, 0x65]) }),
    );
    s.agent.send({ type: 'chat', id: 'c1', text: 'only for the first' });
    await s.first.next('chat');
    await s.first.until(() => s.first.videos().length === 1, 'the video frame');
    assert.equal(s.second.videos().length, 0, 'no video before the user lets them in');
    assert.equal(s.second.messages('chat').length, 0, 'no chat before the user lets them in');
    assert.equal(s.second.messages('consent').length, 0);

    s.agent.send({ type: 'join-answer', slot: s.secondSlot, accepted: true });
    const consent = await s.second.next('consent');
    assert.deepEqual([consent.accepted, consent.permissions], [true, WITH_CONTROL]);
    assert.equal((await s.second.next('chat')).text, 'only for the first', 'the history is replayed');
    await s.agent.until(() => lastParticipants(s.agent)?.operators.length === 2, 'both operators listed');
    assert.equal(lastParticipants(s.agent)?.controlSlot, s.firstSlot, 'control stays with the first');
    assert.deepEqual(
      lastParticipants(s.agent)?.operators.map((o) => [o.id, o.slot]),
      [
        [technician.id, s.firstSlot],
        [colleague.id, s.secondSlot],
      ],
    );
  });

  it('an operator the end user turns away is told and closed, and the session goes on for the first', async () => {
    const s = await twoOperators('waiting');
    s.agent.send({ type: 'join-answer', slot: s.secondSlot, accepted: false });
    assert.equal((await s.second.next('consent')).accepted, false);
    await s.second.waitClosed();
    assert.equal(cp.services.relay.isLive(s.sessionId), true, 'the session goes on');
    await s.agent.next('operator-left');
    s.agent.send({ type: 'chat', id: 'c2', text: 'still here' });
    assert.equal((await s.first.next('chat')).text, 'still here');
    const refused = await auditOf(cp, adminCookie, s.sessionId, 'session.join-refused');
    assert.equal(refused[0]?.details?.['operatorId'], colleague.id);
  });

  it('input from an operator not in control is dropped and counted, the holder’s reaches the agent', async () => {
    const s = await twoOperators('admitted');
    const droppedBefore = cp.services.relay.stats().droppedInputEvents;
    s.second.send({ type: 'input', event: { kind: 'move', x: 0.9, y: 0.9 } });
    s.first.send({ type: 'input', event: { kind: 'move', x: 0.1, y: 0.2 } });
    const input = await s.agent.next('input');
    assert.deepEqual(input.event, { kind: 'move', x: 0.1, y: 0.2 });
    assert.equal(s.agent.messages('input').length, 1, 'only the holder’s input reached the agent');
    assert.equal(cp.services.relay.stats().droppedInputEvents, droppedBefore + 1);
  });

  it('a request for control reaches the holder, and the hand-over moves control and is audited', async () => {
    const s = await twoOperators('admitted');
    s.second.send({ type: 'control-request' });
    const request = await s.first.next('control-request');
    assert.deepEqual(
      [request.slot, request.operator?.id, request.operator?.name],
      [s.secondSlot, colleague.id, 'tech-two'],
    );
    s.first.send({ type: 'control-grant', slot: s.secondSlot });
    await s.second.until(() => lastParticipants(s.second)?.controlSlot === s.secondSlot, 'control moved');
    await s.agent.until(() => lastParticipants(s.agent)?.controlSlot === s.secondSlot, 'the agent told');

    s.first.send({ type: 'input', event: { kind: 'move', x: 0.9, y: 0.9 } });
    s.second.send({ type: 'input', event: { kind: 'move', x: 0.3, y: 0.4 } });
    assert.deepEqual((await s.agent.next('input')).event, { kind: 'move', x: 0.3, y: 0.4 });
    assert.equal(s.agent.messages('input').length, 1);

    await eventually(
      async () => (await auditOf(cp, adminCookie, s.sessionId, 'session.control')).length === 1,
      'the hand-over audited',
    );
    const [moved] = await auditOf(cp, adminCookie, s.sessionId, 'session.control');
    assert.equal(moved?.actorId, technician.id);
    assert.deepEqual(moved?.details, { from: technician.id, to: colleague.id, how: 'handed-over' });
  });

  it('a declined request is told to the asker and control stays with the holder', async () => {
    const s = await twoOperators('admitted');
    s.second.send({ type: 'control-request' });
    await s.first.next('control-request');
    s.first.send({ type: 'control-decline', slot: s.secondSlot });
    assert.equal((await s.second.next('control-decline')).slot, s.secondSlot);
    assert.equal(lastParticipants(s.second)?.controlSlot, s.firstSlot);
    // A grant nobody holding control sends is out of place and changes nothing.
    s.second.send({ type: 'control-grant', slot: s.secondSlot });
    s.first.send({ type: 'input', event: { kind: 'move', x: 0.5, y: 0.5 } });
    await s.agent.next('input');
    assert.equal(lastParticipants(s.agent)?.controlSlot, s.firstSlot);
  });

  it('an administrator asking for control takes it at once, audited as taken', async () => {
    const s = await twoOperators('admitted', adminCookie);
    s.second.send({ type: 'control-request' });
    await s.first.until(() => lastParticipants(s.first)?.controlSlot === s.secondSlot, 'control taken');
    assert.equal(s.first.messages('control-request').length, 0, 'the holder was not asked');
    await eventually(
      async () => (await auditOf(cp, adminCookie, s.sessionId, 'session.control')).length === 1,
      'the take-over audited',
    );
    const [taken] = await auditOf(cp, adminCookie, s.sessionId, 'session.control');
    assert.equal(taken?.details?.['how'], 'taken');
    assert.equal(taken?.details?.['from'], technician.id);
  });

  it('the end user removes one operator, who is told why, and the other stays in the session', async () => {
    const s = await twoOperators('admitted');
    s.agent.send({ type: 'operator-remove', slot: s.secondSlot });
    const error = await s.second.next('error');
    assert.equal(error.code, 'OPERATOR_REMOVED');
    await s.second.waitClosed();
    await s.first.until(() => lastParticipants(s.first)?.operators.length === 1, 'one operator left');
    assert.equal(cp.services.relay.isLive(s.sessionId), true);
    assert.equal(s.first.messages('end').length, 0, 'the session did not end');
    const removed = await auditOf(cp, adminCookie, s.sessionId, 'session.operator-removed');
    assert.equal(removed[0]?.details?.['operatorId'], colleague.id);
  });

  it('an operator who leaves does not end the session, and control passes to the one who stays', async () => {
    const s = await twoOperators('admitted');
    await s.first.close();
    await s.second.until(
      () => lastParticipants(s.second)?.controlSlot === s.secondSlot,
      'control passed to the remaining operator',
    );
    assert.equal(cp.services.relay.isLive(s.sessionId), true);
    assert.equal(s.second.messages('end').length, 0);
    s.second.send({ type: 'input', event: { kind: 'move', x: 0.6, y: 0.6 } });
    assert.deepEqual((await s.agent.next('input')).event, { kind: 'move', x: 0.6, y: 0.6 });
  });

  it('messages from the wrong side are dropped and counted, never acted on', async () => {
    const s = await twoOperators('waiting');
    const before = cp.services.relay.stats().malformedFrames;
    // An operator cannot let itself in, nor remove another; the agent cannot hand control over.
    s.second.send({ type: 'join-answer', slot: s.secondSlot, accepted: true });
    s.first.send({ type: 'operator-remove', slot: s.secondSlot });
    s.agent.send({ type: 'control-grant', slot: s.secondSlot });
    await eventually(() => cp.services.relay.stats().malformedFrames === before + 3, 'three dropped');
    assert.equal(s.second.messages('consent').length, 0);
    assert.equal(s.second.isClosed, false);
    assert.equal(lastParticipants(s.agent)?.controlSlot, s.firstSlot);
  });

  it('the new messages are decoded strictly: a slot out of range or a missing field is refused', () => {
    const json = (value: unknown) =>
      new Uint8Array([0x01, ...new TextEncoder().encode(JSON.stringify(value))]);
    for (const bad of [
      { type: 'join-answer', slot: 0, accepted: true },
      { type: 'join-answer', slot: 1 },
      { type: 'operator-remove', slot: 70_000 },
      { type: 'control-grant', slot: 'one' },
      { type: 'participants', operators: [{ slot: 1, id: 'x' }], controlSlot: null },
    ]) {
      assert.equal(decodeFrame(json(bad)).ok, false, JSON.stringify(bad));
    }
    const good = encodeControl({
      type: 'participants',
      operators: [{ slot: 1, id: 'x', name: 'X' }],
      controlSlot: 1,
    });
    assert.equal(decodeFrame(good).ok, true);
  });
});

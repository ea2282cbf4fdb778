import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { count, eq, sql } from 'drizzle-orm';
import { auditEvents } from '../../control-plane/db/schema.ts';
import { WRITE_BURST } from '../../control-plane/relay/message-budget.ts';
import {
  ALL_PERMISSIONS,
  CloseCode,
  channelId,
  NO_PERMISSIONS,
  type Permissions,
} from '../../protocol/index.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { closeAll, connectAgent, consentedSession, eventually, type RelayClient } from './relay-client.ts';

const NOTHING: Permissions = { ...NO_PERMISSIONS };
/** Messages a flooding test sends: far past what the budget lets through. */
const FLOOD = 5_000;
/** Messages of each kind an agent sends that do not fit the session's state. */
const STRAY = 1_000;

describe('relay: what a connection can make the server write', () => {
  let cp: TestControlPlane;
  let cookie: string;
  const logs: string[] = [];
  const sockets: RelayClient[] = [];

  const rowsOf = async (sessionId: string) => {
    const [row] = await cp.services.db
      .select({ n: count() })
      .from(auditEvents)
      .where(eq(auditEvents.sessionId, sessionId));
    return row?.n ?? 0;
  };
  const healthy = async () => (await fetch(`${cp.url}/healthz`)).status === 200;

  before(async () => {
    cp = await startControlPlane({ listen: true, logs, env: { LOG_LEVEL: 'info' } });
    cookie = await loginCookie(cp.app);
  });

  after(() => closeAll(sockets, cp));

  it('an agent without an operator or consent writes no audit rows for chat, permissions or consent', async () => {
    const { agent, registration } = await connectAgent(cp);
    sockets.push(agent);
    const rowsBefore = await rowsOf(registration.sessionId);
    const before = cp.services.relay.stats().outOfStateMessages;
    for (let i = 0; i < STRAY; i++) {
      agent.send({ type: 'chat', id: `c${i}`, text: 'spam' });
      agent.send({ type: 'permissions', permissions: i % 2 ? ALL_PERMISSIONS : NOTHING });
      agent.send({ type: 'consent', accepted: true, permissions: ALL_PERMISSIONS });
    }
    // A malformed frame last: once it is counted, every message before it was handled.
    const malformed = cp.services.relay.stats().malformedFrames;
    await agent.sendBytes(new Uint8Array([0xee]));
    await eventually(
      () => cp.services.relay.stats().malformedFrames > malformed,
      'the flood handled',
      30_000,
    );
    // Audit writes finish after their message was handled: wait until the table is quiet.
    let rows = -1;
    await eventually(
      async () => {
        const now = await rowsOf(registration.sessionId);
        const quiet = now === rows;
        rows = now;
        await new Promise((resolve) => setTimeout(resolve, 200));
        return quiet;
      },
      'no more audit writes',
      30_000,
    );
    assert.equal(rows, rowsBefore, 'no audit row was written');
    assert.equal(cp.services.relay.stats().outOfStateMessages, before + 3 * STRAY, 'every message refused');
    assert.equal(logs.filter((line) => line.includes(registration.sessionId)).length < 10, true);
    assert.equal(cp.services.relay.isLive(registration.sessionId), true, 'the agent is still attached');
    assert.equal(await healthy(), true);
    await agent.close();
  });

  it('an agent flooding chat after consent is cut off at its budget and closed with 4003', async () => {
    const { agent, operator, registration } = await consentedSession(cp, cookie, ALL_PERMISSIONS);
    sockets.push(agent, operator);
    const rowsBefore = await rowsOf(registration.sessionId);
    for (let i = 0; i < FLOOD; i++) agent.send({ type: 'chat', id: `c${i}`, text: 'spam' });
    const closed = await agent.closed;
    assert.equal(closed.code, CloseCode.flood);
    assert.equal(closed.reason, 'TOO_FREQUENT');
    assert.equal(agent.messages('error').at(-1)?.code, 'TOO_FREQUENT');
    await eventually(() => !cp.services.relay.isLive(registration.sessionId), 'the session ended');
    // Chat rows up to the burst and what refills while the flood lasts: bounded, far below FLOOD.
    const written = (await rowsOf(registration.sessionId)) - rowsBefore;
    assert.ok(written < FLOOD / 4, `${written} rows written`);
    // What fits the budget went through.
    await eventually(() => operator.messages('chat').length >= WRITE_BURST, 'the burst delivered');
    assert.ok(operator.messages('chat').length < FLOOD / 4);
    assert.equal(await healthy(), true);
    await operator.close();
  });

  it('an operator flooding chat and permission requests is cut off at its budget and closed with 4003', async () => {
    const { agent, operator, registration } = await consentedSession(cp, cookie, ALL_PERMISSIONS);
    sockets.push(agent, operator);
    const rowsBefore = await rowsOf(registration.sessionId);
    const floods = cp.services.relay.stats().floodClosures;
    for (let i = 0; i < FLOOD; i++) {
      operator.send({ type: 'chat', id: `o${i}`, text: 'spam' });
      operator.send({ type: 'permission-request', requested: ALL_PERMISSIONS });
    }
    assert.equal((await operator.closed).code, CloseCode.flood);
    assert.equal(cp.services.relay.stats().floodClosures, floods + 1);
    const written = (await rowsOf(registration.sessionId)) - rowsBefore;
    assert.ok(written < FLOOD / 4, `${written} rows written`);
    assert.ok(agent.messages('chat').length < FLOOD / 4);
    assert.equal(cp.services.relay.isLive(registration.sessionId), true, "the agent's session goes on");
    await agent.close();
  });

  it('file requests past the budget are answered TOO_FREQUENT on their channel, not lost, and never reach the agent', async () => {
    const { agent, operator, welcome } = await consentedSession(cp, cookie, ALL_PERMISSIONS);
    sockets.push(agent, operator);
    const sent = WRITE_BURST + 50;
    const channels = Array.from({ length: sent }, (_, i) => channelId(welcome.slot!, i + 1));
    for (const channel of channels)
      operator.send({ type: 'file-op', channel, op: 'mkdir', path: `d${channel}` });
    await eventually(
      () => agent.messages('file-op').length + operator.messages('channel-error').length >= sent,
      'every request reached the agent or was answered',
    );
    const refused = operator.messages('channel-error');
    assert.ok(refused.length > 0, 'some came too fast');
    assert.ok(refused.every((error) => error.code === 'TOO_FREQUENT'));
    const delivered = new Set(agent.messages('file-op').map((message) => message.channel));
    assert.ok(
      refused.every((error) => !delivered.has(error.channel)),
      'a refused request never reached the agent',
    );
    assert.equal(delivered.size + refused.length, sent);
  });

  it('a failing audit write is logged and the server goes on', async () => {
    const { agent, operator, registration } = await consentedSession(cp, cookie, ALL_PERMISSIONS);
    sockets.push(agent, operator);
    // From here on, a real database error on every audit insert.
    await cp.services.db.run(
      sql.raw(
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'disk full'); END",
      ),
    );
    try {
      const failures = cp.services.audit.failures;
      // The relay audits a change of permissions without waiting for it: a rejection there was unhandled.
      agent.send({ type: 'permissions', permissions: { ...ALL_PERMISSIONS, shell: false } });
      await operator.next('permissions');
      await eventually(() => cp.services.audit.failures > failures, 'the failure counted');
      assert.ok(logs.some((line) => line.includes('could not write an audit event')));
      assert.equal(await healthy(), true);
      assert.equal(cp.services.relay.isLive(registration.sessionId), true);
      await Promise.all([agent.close(), operator.close()]);
    } finally {
      await cp.services.db.run(sql.raw('DROP TRIGGER refuse_audit'));
    }
  });
});

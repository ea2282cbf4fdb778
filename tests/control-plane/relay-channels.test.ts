import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  ALL_PERMISSIONS,
  CHAT_HISTORY_MESSAGES,
  channelId,
  encodeFileChunk,
  encodeShellData,
  type Permissions,
  ShellStream,
} from '../../protocol/index.ts';
import type { TestControlPlane } from '../support/control-plane.ts';
import {
  auditOf,
  closeAll,
  consentedSession,
  eventually,
  joinOperator,
  type RelayClient,
  startRelayPlane,
} from './relay-client.ts';

const NO_FILES_OR_SHELL: Permissions = { ...ALL_PERMISSIONS, files: false, shell: false };
const NO_CHAT: Permissions = { ...ALL_PERMISSIONS, chat: false };

describe('relay: chat and channels', () => {
  let cp: TestControlPlane;
  let cookie: string;
  let operatorId: string;
  const sockets: RelayClient[] = [];

  /** An agent, two operators on its session, and the end user's answer. */
  async function session(consent: Permissions | 'unanswered' = ALL_PERMISSIONS) {
    const first = await consentedSession(cp, cookie, consent);
    const { agent, registration } = first;
    sockets.push(agent, first.operator);
    const second = await joinOperator(cp, registration.sessionId, cookie);
    sockets.push(second.operator);
    await agent.next('operator-joined', 1);
    return {
      agent,
      a: first.operator,
      b: second.operator,
      slotA: first.welcome.slot!,
      slotB: second.welcome.slot!,
      sessionId: registration.sessionId,
    };
  }

  const audit = (sessionId: string, action: string) => auditOf(cp, cookie, sessionId, action);

  before(async () => {
    ({ cp, cookie, operatorId } = await startRelayPlane());
  });

  after(() => closeAll(sockets, cp));

  describe('slots', () => {
    it('each operator connection gets its own slot in its welcome, and the agent hears the same slots', async () => {
      const { agent, a, b, slotA, slotB } = await session();
      assert.ok(Number.isInteger(slotA) && slotA >= 1 && slotA <= 0xffff, `slot ${slotA}`);
      assert.ok(Number.isInteger(slotB) && slotB >= 1 && slotB <= 0xffff, `slot ${slotB}`);
      assert.notEqual(slotA, slotB);
      assert.deepEqual(
        agent.messages('operator-joined').map((joined) => joined.slot),
        [slotA, slotB],
      );
      await b.close();
      const left = await agent.next('operator-left');
      assert.deepEqual(left, { type: 'operator-left', operatorId, slot: slotB });
      await Promise.all([a.close(), agent.close()]);
    });

    it('a slot is not handed to a new connection while another live connection holds it', async () => {
      const { agent, a, b, slotA, slotB, sessionId } = await session();
      const slots = new Set([slotA, slotB]);
      await b.close();
      for (let i = 0; i < 3; i++) {
        const next = await joinOperator(cp, sessionId, cookie);
        sockets.push(next.operator);
        assert.ok(!slots.has(next.welcome.slot!), `slot ${next.welcome.slot} is new`);
        slots.add(next.welcome.slot!);
      }
      await Promise.all([a.close(), agent.close()]);
    });
  });

  describe('routing', () => {
    it("an operator's message or frame on another slot's channel is dropped and counted; its own reaches the agent", async () => {
      const { agent, a, b, slotA, slotB } = await session();
      const before = cp.services.relay.stats().malformedFrames;
      const foreign = channelId(slotB, 1);
      a.send({ type: 'file-list', channel: foreign, path: '' });
      a.send({ type: 'channel-close', channel: foreign });
      await a.sendBytes(
        encodeShellData({ channel: foreign, stream: ShellStream.terminal, data: new Uint8Array([0x6c]) }),
      );
      await a.sendBytes(encodeFileChunk({ channel: foreign, offset: 0, data: new Uint8Array([1]) }));
      const own = channelId(slotA, 1);
      a.send({ type: 'file-list', channel: own, path: 'docs' });
      await a.sendBytes(
        encodeShellData({ channel: own, stream: ShellStream.terminal, data: new Uint8Array([0x6c]) }),
      );
      await agent.until(() => agent.shellData().length === 1, "the operator's own keystrokes");
      assert.deepEqual(agent.messages('file-list'), [{ type: 'file-list', channel: own, path: 'docs' }]);
      assert.deepEqual(agent.messages('channel-close'), []);
      assert.deepEqual(agent.fileChunks(), []);
      assert.equal(agent.shellData()[0]!.channel, own);
      await eventually(
        () => cp.services.relay.stats().malformedFrames === before + 4,
        'four frames counted as malformed',
      );
      await Promise.all([a.close(), b.close(), agent.close()]);
    });

    it("the agent's answers and output reach only the operator whose slot owns the channel", async () => {
      const { agent, a, b, slotA, slotB } = await session();
      const channelA = channelId(slotA, 7);
      const channelB = channelId(slotB, 7);
      agent.send({ type: 'shell-opened', channel: channelA, shell: '/bin/sh' });
      await agent.sendBytes(
        encodeShellData({
          channel: channelA,
          stream: ShellStream.stdout,
          data: new TextEncoder().encode('for a'),
        }),
      );
      await agent.sendBytes(encodeFileChunk({ channel: channelA, offset: 0, data: new Uint8Array([9, 9]) }));
      agent.send({ type: 'file-op-done', channel: channelB });
      await a.until(() => a.fileChunks().length === 1, 'the file chunk for A');
      await b.next('file-op-done');
      assert.deepEqual(a.messages('shell-opened'), [
        { type: 'shell-opened', channel: channelA, shell: '/bin/sh' },
      ]);
      assert.equal(new TextDecoder().decode(a.shellData()[0]!.data), 'for a');
      assert.deepEqual(a.messages('file-op-done'), [], "B's answer did not reach A");
      assert.deepEqual(b.messages('shell-opened'), [], "A's answer did not reach B");
      assert.deepEqual(b.shellData(), []);
      assert.deepEqual(b.fileChunks(), []);
      // A channel of a slot nobody holds goes nowhere.
      const unrouted = cp.services.relay.stats().unroutedChannelFrames;
      agent.send({ type: 'file-op-done', channel: channelId(0xfff0, 1) });
      await eventually(
        () => cp.services.relay.stats().unroutedChannelFrames === unrouted + 1,
        'the orphan answer counted',
      );
      await Promise.all([a.close(), b.close(), agent.close()]);
    });

    it('file and shell requests are refused with CAPABILITY_NOT_ALLOWED until the user allows them, and their frames never reach the agent', async () => {
      const { agent, a, b, slotA } = await session(NO_FILES_OR_SHELL);
      const channel = channelId(slotA, 1);
      const refusedBefore = cp.services.relay.stats().refusedFrames;
      a.send({ type: 'file-write', channel, path: 'x.bin', size: 3, overwrite: false });
      const refusal = await a.next('channel-error');
      assert.equal(refusal.channel, channel);
      assert.equal(refusal.code, 'CAPABILITY_NOT_ALLOWED');
      assert.match(refusal.message, /"Files"/);
      a.send({
        type: 'exec',
        channel: channelId(slotA, 2),
        command: 'id',
        timeoutMs: 1000,
        maxOutputBytes: 100,
      });
      a.send({ type: 'shell-open', channel: channelId(slotA, 3), cols: 80, rows: 24 });
      await a.until(() => a.messages('channel-error').length === 3, 'three refusals');
      assert.match(a.messages('channel-error')[1]!.message, /"Shell"/);
      await a.sendBytes(encodeFileChunk({ channel, offset: 0, data: new Uint8Array([1, 2, 3]) }));
      await a.sendBytes(
        encodeShellData({ channel: channelId(slotA, 3), stream: 0, data: new Uint8Array([0x6c]) }),
      );
      // channel-close needs nothing: it only stops, so it passes and marks where the refused frames were.
      a.send({ type: 'channel-close', channel });
      await agent.next('channel-close');
      assert.deepEqual(agent.fileChunks(), [], 'no file chunk reached the agent');
      assert.deepEqual(agent.shellData(), [], 'no keystroke reached the agent');
      assert.deepEqual(agent.messages('file-write'), []);
      assert.deepEqual(agent.messages('exec'), []);
      assert.deepEqual(agent.messages('shell-open'), []);
      assert.equal(cp.services.relay.stats().refusedFrames, refusedBefore + 2);

      // Once the user allows files, the same request and chunk go through.
      agent.send({ type: 'permissions', permissions: { ...NO_FILES_OR_SHELL, files: true } });
      await a.next('permissions');
      a.send({ type: 'file-write', channel, path: 'x.bin', size: 3, overwrite: false });
      await a.sendBytes(encodeFileChunk({ channel, offset: 0, data: new Uint8Array([1, 2, 3]) }));
      await agent.until(() => agent.fileChunks().length === 1, 'the chunk');
      assert.equal(agent.messages('file-write').length, 1);
      await Promise.all([a.close(), b.close(), agent.close()]);
    });

    it('before consent nothing on a channel reaches the agent', async () => {
      const { agent, a, b, slotA } = await session('unanswered');
      a.send({ type: 'file-list', channel: channelId(slotA, 1), path: '' });
      assert.equal((await a.next('channel-error')).code, 'CAPABILITY_NOT_ALLOWED');
      assert.deepEqual(agent.messages('file-list'), []);
      await Promise.all([a.close(), b.close(), agent.close()]);
    });
  });

  describe('chat', () => {
    it('an operator message is stamped by the relay and reaches the agent and every operator, the sender included', async () => {
      const { agent, a, b } = await session();
      const id = randomUUID();
      const before = Date.now();
      // A forged author and time are replaced by the relay's.
      a.send({
        type: 'chat',
        id,
        text: 'Hello, can you see my cursor?',
        from: { kind: 'user', name: 'Mallory' },
        sentAt: 1,
      });
      const received = await agent.next('chat');
      assert.equal(received.id, id);
      assert.equal(received.text, 'Hello, can you see my cursor?');
      assert.deepEqual(received.from, { kind: 'operator', id: operatorId, name: 'Administrator' });
      assert.ok(received.sentAt! >= before && received.sentAt! <= Date.now(), 'stamped with the relay clock');
      assert.deepEqual(await a.next('chat'), received, 'the sender gets the echo');
      assert.deepEqual(await b.next('chat'), received);
      await Promise.all([a.close(), b.close(), agent.close()]);
    });

    it("the end user's message reaches every operator, stamped as the user, not sent back to the agent", async () => {
      const { agent, a, b } = await session();
      agent.send({ type: 'chat', id: 'u1', text: 'Yes', from: { kind: 'operator', id: 'x', name: 'Fake' } });
      const atA = await a.next('chat');
      assert.deepEqual(atA.from, { kind: 'user', name: 'test-agent' });
      assert.deepEqual(await b.next('chat'), atA);
      a.send({ type: 'chat', id: 'o1', text: 'Thanks' });
      await agent.next('chat');
      assert.deepEqual(
        agent.messages('chat').map((message) => message.id),
        ['o1'],
      );
      await Promise.all([a.close(), b.close(), agent.close()]);
    });

    it('an operator who joins later gets the history after its welcome, oldest first', async () => {
      const { agent, a, b, sessionId } = await session();
      a.send({ type: 'chat', id: 'm1', text: 'one' });
      agent.send({ type: 'chat', id: 'm2', text: 'two' });
      await a.until(() => a.messages('chat').length === 2, 'both messages');
      const late = await joinOperator(cp, sessionId, cookie);
      sockets.push(late.operator);
      await late.operator.until(() => late.operator.messages('chat').length === 2, 'the history');
      assert.deepEqual(late.operator.messages('chat'), a.messages('chat'));
      const kinds = late.operator.received.map((item) =>
        item.frame?.kind === 'control' ? item.frame.message.type : '',
      );
      assert.ok(kinds.indexOf('welcome') < kinds.indexOf('chat'), 'the welcome comes first');
      assert.deepEqual(cp.services.relay.chatHistory(sessionId), a.messages('chat'));
      await Promise.all([a.close(), b.close(), late.operator.close(), agent.close()]);
    });

    it(`the relay keeps only the last ${CHAT_HISTORY_MESSAGES} messages`, async () => {
      const { agent, a, b, sessionId } = await session();
      for (let i = 0; i < CHAT_HISTORY_MESSAGES + 5; i++)
        agent.send({ type: 'chat', id: `m${i}`, text: `#${i}` });
      await a.until(() => a.messages('chat').length === CHAT_HISTORY_MESSAGES + 5, 'every message', 15_000);
      const history = cp.services.relay.chatHistory(sessionId)!;
      assert.equal(history.length, CHAT_HISTORY_MESSAGES);
      assert.equal(history[0]!.id, 'm5');
      await Promise.all([a.close(), b.close(), agent.close()]);
    });

    it('chat is refused with CAPABILITY_NOT_ALLOWED while the user does not allow it, and nothing reaches the agent', async () => {
      const { agent, a, b } = await session(NO_CHAT);
      a.send({ type: 'chat', id: 'x', text: 'anyone?' });
      const error = await a.next('error');
      assert.equal(error.code, 'CAPABILITY_NOT_ALLOWED');
      assert.match(error.message, /"Chat"/);
      agent.send({ type: 'permissions', permissions: ALL_PERMISSIONS });
      await a.next('permissions');
      a.send({ type: 'chat', id: 'y', text: 'now?' });
      await agent.next('chat');
      await b.next('chat');
      assert.deepEqual(
        agent.messages('chat').map((message) => message.id),
        ['y'],
      );
      assert.deepEqual(
        b.messages('chat').map((message) => message.id),
        ['y'],
      );
      await Promise.all([a.close(), b.close(), agent.close()]);
    });
  });

  describe('audit', () => {
    it('shell.open, session.exec (and its exit), file.read, file.write, file.op and session.chat are audited as the operator', async () => {
      const { agent, a, b, slotA, sessionId } = await session();
      a.send({ type: 'shell-open', channel: channelId(slotA, 1), cols: 80, rows: 24 });
      a.send({
        type: 'exec',
        channel: channelId(slotA, 2),
        command: 'uname -a',
        timeoutMs: 5000,
        maxOutputBytes: 1000,
      });
      a.send({ type: 'file-read', channel: channelId(slotA, 3), path: 'notes.txt', offset: 5 });
      a.send({ type: 'file-write', channel: channelId(slotA, 4), path: 'up.bin', size: 10, overwrite: true });
      a.send({ type: 'file-op', channel: channelId(slotA, 5), op: 'rename', path: 'a', to: 'b' });
      a.send({ type: 'file-list', channel: channelId(slotA, 6), path: '' });
      a.send({ type: 'chat', id: 'c', text: 'secret words' });
      await agent.next('chat');
      agent.send({
        type: 'shell-exit',
        channel: channelId(slotA, 2),
        exitCode: 3,
        signal: null,
        durationMs: 12,
      });
      await a.next('shell-exit');
      const actor = { actorType: 'operator', actorId: operatorId };
      const expected: [string, Record<string, unknown>][] = [
        ['shell.open', { channel: channelId(slotA, 1) }],
        ['session.exec', { channel: channelId(slotA, 2), command: 'uname -a' }],
        ['session.exec-exit', { channel: channelId(slotA, 2), exitCode: 3, signal: null, durationMs: 12 }],
        ['file.read', { path: 'notes.txt', offset: 5 }],
        ['file.write', { path: 'up.bin', size: 10, overwrite: true }],
        ['file.op', { op: 'rename', path: 'a', to: 'b' }],
        ['session.chat', { length: 'secret words'.length }],
      ];
      for (const [action, details] of expected) {
        await eventually(async () => (await audit(sessionId, action)).length === 1, `one ${action} event`);
        const [event] = await audit(sessionId, action);
        assert.deepEqual({ actorType: event!.actorType, actorId: event!.actorId }, actor, action);
        assert.deepEqual(event!.details, details, action);
      }
      assert.deepEqual(await audit(sessionId, 'file.list'), [], 'listing a folder is not audited');
      await Promise.all([a.close(), b.close(), agent.close()]);
    });
  });

  describe('idle timeout', () => {
    it('a running command keeps the session from idling out; once it exits, the idle timeout applies', async () => {
      const { agent, a, b, slotA, sessionId } = await session();
      const channel = channelId(slotA, 1);
      a.send({ type: 'exec', channel, command: 'sleep 3600', timeoutMs: 3_600_000, maxOutputBytes: 100 });
      await agent.next('exec');
      const later = Date.now() + 31 * 60_000; // past the default policy's 30 idle minutes
      cp.services.relay.enforceLimits(later);
      assert.equal(cp.services.relay.isLive(sessionId), true, 'the session goes on while the command runs');
      agent.send({ type: 'shell-exit', channel, exitCode: 0, signal: null });
      await a.next('shell-exit');
      cp.services.relay.enforceLimits(later);
      assert.equal((await agent.next('end')).reason, 'idle-timeout');
      await Promise.all([a.close(), b.close(), agent.close()]);
    });

    it('chat, shell and file activity of an operator count as activity', async () => {
      const { agent, a, b, slotA, sessionId } = await session();
      const live = (
        cp.services.relay as unknown as {
          lifecycle: { get(id: string): { lastActivityAt: number } | undefined };
        }
      ).lifecycle.get(sessionId)!;
      for (const send of [
        () => a.send({ type: 'chat', id: 'z', text: 'still there?' }),
        () => a.send({ type: 'file-list', channel: channelId(slotA, 1), path: '' }),
        () =>
          a.sendBytes(
            encodeShellData({ channel: channelId(slotA, 2), stream: 0, data: new Uint8Array([1]) }),
          ),
      ]) {
        live.lastActivityAt = 0;
        await send();
        await eventually(() => live.lastActivityAt > 0, 'activity recorded');
      }
      await Promise.all([a.close(), b.close(), agent.close()]);
    });
  });
});

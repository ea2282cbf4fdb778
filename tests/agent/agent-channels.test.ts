import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALL_PERMISSIONS,
  type ControlMessage,
  NO_PERMISSIONS,
  type Permissions,
  ShellStream,
} from '../../protocol/index.ts';
import { isAlive, waitFor } from '../support/processes.ts';
import { type TestAgent, useTestAgent, WAIT_MS } from './channel-relay.ts';

const VIEW_ONLY: Permissions = { ...NO_PERMISSIONS, view: true };

/** One request of every kind that needs a capability, on channels 1..6 of slot 1. */
function everyRequest(agent: TestAgent): ControlMessage[] {
  return [
    { type: 'shell-open', channel: agent.channel(1), cols: 80, rows: 24 },
    { type: 'exec', channel: agent.channel(2), command: 'echo hi', timeoutMs: 1000, maxOutputBytes: 100 },
    { type: 'file-list', channel: agent.channel(3), path: '' },
    { type: 'file-read', channel: agent.channel(4), path: 'x', offset: 0 },
    { type: 'file-write', channel: agent.channel(5), path: 'x', size: 1, overwrite: false },
    { type: 'file-op', channel: agent.channel(6), op: 'mkdir', path: 'x' },
  ];
}

/** Sends every request and returns the code each one was refused with. */
/** Runs a command on `channel` that prints its pid and lives until it is killed. */
function startSleeper(agent: TestAgent, channel: number): void {
  agent.relay.exec(channel, 'echo $$; sleep 600', { timeoutMs: WAIT_MS * 10 });
}

async function refusals(agent: TestAgent): Promise<string[]> {
  const codes: string[] = [];
  for (const request of everyRequest(agent)) {
    agent.relay.send(request);
    const reply = await agent.relay.next('channel-error', 0, (request as { channel: number }).channel);
    codes.push(reply.code);
  }
  return codes;
}

describe('the agent enforces capabilities on every channel and carries chat', () => {
  const agents = useTestAgent();

  it("hello lists the agent's features: chat, files, shell and exec, and that it asks for each operator", async () => {
    const agent = await agents.start();
    assert.deepEqual(agent.relay.hello?.client.features, ['chat', 'files', 'shell', 'exec', 'operators']);
  });

  it('every request without its capability is refused with CAPABILITY_NOT_ALLOWED, and nothing happens', async () => {
    const agent = await agents.start({ permissions: VIEW_ONLY });
    assert.deepEqual(await refusals(agent), Array(6).fill('CAPABILITY_NOT_ALLOWED'));
    assert.equal(agent.relay.received.filter((f) => f.kind !== 'control').length, 0);
    assert.ok(agent.user.statuses.some((line) => /Refused: Dana asked for a command shell/.test(line)));
  });

  it('before the user consents, every request is refused with CAPABILITY_NOT_ALLOWED', async () => {
    const agent = await agents.start({ join: false });
    assert.deepEqual(await refusals(agent), Array(6).fill('CAPABILITY_NOT_ALLOWED'));
  });

  it('what --allow (or the signed policy) leaves out is refused although the user said yes', async () => {
    const agent = await agents.start({ allowed: { ...ALL_PERMISSIONS, shell: false, files: false } });
    assert.deepEqual(await refusals(agent), Array(6).fill('CAPABILITY_NOT_ALLOWED'));
  });

  it('a host without shells or files offers neither in hello and answers NOT_SUPPORTED', async () => {
    const agent = await agents.start({ hosts: 'none' });
    assert.deepEqual(agent.relay.hello?.client.features, ['chat', 'operators']);
    assert.deepEqual(await refusals(agent), Array(6).fill('NOT_SUPPORTED'));
  });

  it('a channel id already in use is refused with CHANNEL_IN_USE, and the open one goes on', async () => {
    const agent = await agents.start();
    const channel = agent.channel(1);
    agent.relay.exec(channel, 'sleep 1; echo done');
    agent.relay.exec(channel, 'echo second');
    assert.equal((await agent.relay.next('channel-error', 0, channel)).code, 'CHANNEL_IN_USE');
    await agent.relay.next('shell-exit', 0, channel);
    assert.equal(agent.relay.output(channel, ShellStream.stdout), 'done\n');
  });

  it("operator-left closes that operator's channels only", async () => {
    const agent = await agents.start();
    const { relay } = agent;
    relay.send({
      type: 'operator-joined',
      operator: { id: 'op-2', name: 'Eve' },
      requested: ALL_PERMISSIONS,
      slot: 2,
    });
    const mine = agent.channel(1, 1);
    const theirs = agent.channel(1, 2);
    for (const channel of [mine, theirs]) startSleeper(agent, channel);
    await relay.until(
      () => /\d+\n/.test(relay.output(mine, 1)) && /\d+\n/.test(relay.output(theirs, 1)),
      'both pids',
    );
    const [minePid, theirsPid] = [mine, theirs].map((channel) => Number(relay.output(channel, 1).trim()));
    relay.send({ type: 'operator-left', operatorId: 'op-1', slot: 1 });
    await waitFor("slot 1's command to be killed", () => !isAlive(minePid!));
    assert.ok(isAlive(theirsPid!), "slot 2's command still runs");
    assert.ok(agent.user.statuses.some((line) => line.startsWith('Eve runs a command')));
    relay.send({ type: 'channel-close', channel: theirs });
    await waitFor("slot 2's command to be killed", () => !isAlive(theirsPid!));
  });

  it('a dropped connection stops open channels, and after reconnecting the agent says AGENT_OFFLINE for each', async () => {
    const agent = await agents.start({ reconnectGraceMs: WAIT_MS });
    const { relay } = agent;
    const channel = agent.channel(1);
    startSleeper(agent, channel);
    await relay.until(() => /\d+\n/.test(relay.output(channel, 1)), 'the pid');
    const pid = Number(relay.output(channel, 1).trim());
    const hellos = relay.messages('hello').length;
    relay.drop();
    await relay.until(() => relay.messages('hello').length > hellos, 'the agent to come back');
    assert.equal((await relay.next('channel-error', 0, channel)).code, 'AGENT_OFFLINE');
    await waitFor('the command to be killed', () => !isAlive(pid));
    // The session goes on: new channels work.
    relay.exec(agent.channel(2), 'echo again');
    await relay.next('shell-exit', 0, agent.channel(2));
    assert.equal(relay.output(agent.channel(2), 1), 'again\n');
  });

  it('chat from the help desk is shown, and the user can answer', async () => {
    const agent = await agents.start();
    agent.relay.send({
      type: 'chat',
      id: 'm1',
      text: 'Hello, can you see my cursor?',
      from: { kind: 'operator', id: 'op-1', name: 'Dana' },
      sentAt: 1_700_000_000_000,
    });
    await waitFor('the message to be shown', () => agent!.user.chats.length === 1);
    assert.deepEqual(agent.user.chats[0], {
      from: 'Dana',
      text: 'Hello, can you see my cursor?',
      sentAt: 1_700_000_000_000,
    });
    assert.equal(agent.session.sendChat('  Yes, I can.  '), true);
    const reply = await agent.relay.next('chat');
    assert.equal(reply.text, 'Yes, I can.');
    assert.match(reply.id, /^[0-9a-f-]{36}$/);
    assert.equal(reply.from, undefined, 'the relay stamps the author, not the agent');
  });

  it('chat is not shown, and cannot be sent, while the user does not allow it', async () => {
    const agent = await agents.start({ permissions: VIEW_ONLY });
    agent.relay.send({
      type: 'chat',
      id: 'm1',
      text: 'psst',
      from: { kind: 'operator', id: 'op-1', name: 'Dana' },
    });
    await waitFor('the message to be dropped', () => agent!.session.droppedChatMessages === 1);
    assert.equal(agent.user.chats.length, 0);
    assert.equal(agent.session.sendChat('hello?'), false);
    // Allowing chat later shows what comes next.
    await agent.session.setPermissions({ ...VIEW_ONLY, chat: true });
    agent.relay.send({
      type: 'chat',
      id: 'm2',
      text: 'now?',
      from: { kind: 'operator', id: 'op-1', name: 'Dana' },
    });
    await waitFor('the second message to be shown', () => agent!.user.chats.length === 1);
    assert.equal(agent.user.chats[0]?.text, 'now?');
    assert.equal(agent.relay.messages('chat').length, 0);
  });
});

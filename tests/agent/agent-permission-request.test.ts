import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALL_PERMISSIONS,
  DEFAULT_POLICY,
  NO_PERMISSIONS,
  type OperatorInfo,
  type Permissions,
} from '../../protocol/index.ts';
import { waitFor } from '../support/processes.ts';
import { RecordingUser, startAgent, type TestAgent, useTestAgent } from './channel-relay.ts';

const NOTHING: Permissions = { ...NO_PERMISSIONS };
const VIEW_CHAT: Permissions = { ...NOTHING, view: true, chat: true };
const BEA = { id: 'op-1', name: 'Bea' };

/** A user who answers consent with `permissions` and holds every later question until the test answers. */
class AskedUser extends RecordingUser {
  readonly asked: { operator: OperatorInfo; missing: Permissions }[] = [];
  private answers: ((granted: Permissions) => void)[] = [];
  askMore(operator: OperatorInfo, missing: Permissions): Promise<Permissions> {
    this.asked.push({ operator, missing });
    return new Promise((resolve) => this.answers.push(resolve));
  }
  answer(granted: Permissions): void {
    this.answers.shift()?.(granted);
  }
}

async function started(
  options: { allowed?: Permissions; consentRequired?: boolean } = {},
): Promise<{ agent: TestAgent; user: AskedUser }> {
  const user = new AskedUser(VIEW_CHAT);
  const agent = await startAgent({
    ui: user,
    ...(options.allowed ? { allowed: options.allowed } : {}),
    ...(options.consentRequired === false ? { policy: { ...DEFAULT_POLICY, consentRequired: false } } : {}),
  });
  return { agent, user };
}

describe('an operator asks the end user for more during the session', () => {
  const agents = useTestAgent();

  it('asks only for what is not allowed yet and what --allow permits, and applies the answer', async () => {
    const run = await started({ allowed: { ...ALL_PERMISSIONS, shell: false } });
    const agent = agents.stopAfter(run.agent);
    agent.relay.send({
      type: 'permission-request',
      requested: { ...NOTHING, view: true, files: true, shell: true },
      operator: BEA,
    });
    await waitFor('the question to the user', () => run.user.asked.length === 1);
    assert.deepEqual(run.user.asked[0], { operator: BEA, missing: { ...NOTHING, files: true } });
    run.user.answer({ ...NOTHING, files: true });
    const answer = await agent.relay.next('permissions');
    assert.deepEqual(answer.permissions, { ...VIEW_CHAT, files: true });
    // Files now work on the device.
    const channel = agent.channel(1);
    agent.relay.send({ type: 'file-list', channel, path: '' });
    assert.equal((await agent.relay.reply(channel, 'file-listing', 'channel-error')).type, 'file-listing');
  });

  it('a refusal is answered with the unchanged permissions, so the operator knows', async () => {
    const run = await started();
    const agent = agents.stopAfter(run.agent);
    agent.relay.send({ type: 'permission-request', requested: { ...NOTHING, shell: true }, operator: BEA });
    await waitFor('the question to the user', () => run.user.asked.length === 1);
    run.user.answer(NOTHING);
    assert.deepEqual((await agent.relay.next('permissions')).permissions, VIEW_CHAT);
    const channel = agent.channel(1);
    agent.relay.send({ type: 'exec', channel, command: 'true', timeoutMs: 1000, maxOutputBytes: 10 });
    const refused = await agent.relay.reply(channel, 'channel-error', 'shell-exit');
    assert.equal(refused.type === 'channel-error' && refused.code, 'CAPABILITY_NOT_ALLOWED');
  });

  it('a request for nothing new, or for what the flags forbid, is answered at once without asking', async () => {
    const run = await started({ allowed: { ...ALL_PERMISSIONS, files: false } });
    const agent = agents.stopAfter(run.agent);
    agent.relay.send({ type: 'permission-request', requested: { ...NOTHING, view: true }, operator: BEA });
    assert.deepEqual((await agent.relay.next('permissions', 0)).permissions, VIEW_CHAT);
    agent.relay.send({ type: 'permission-request', requested: { ...NOTHING, files: true }, operator: BEA });
    assert.deepEqual((await agent.relay.next('permissions', 1)).permissions, VIEW_CHAT);
    assert.equal(run.user.asked.length, 0);
  });

  it('a second request while the user is being asked is answered at once with the current permissions', async () => {
    const run = await started();
    const agent = agents.stopAfter(run.agent);
    agent.relay.send({ type: 'permission-request', requested: { ...NOTHING, shell: true }, operator: BEA });
    await waitFor('the question to the user', () => run.user.asked.length === 1);
    agent.relay.send({ type: 'permission-request', requested: { ...NOTHING, files: true }, operator: BEA });
    assert.deepEqual((await agent.relay.next('permissions', 0)).permissions, VIEW_CHAT);
    assert.equal(run.user.asked.length, 1);
    run.user.answer({ ...NOTHING, shell: true });
    assert.deepEqual((await agent.relay.next('permissions', 1)).permissions, { ...VIEW_CHAT, shell: true });
  });

  it('under a policy that asks no consent, what is asked is granted within the caps without asking', async () => {
    const run = await started({ allowed: { ...ALL_PERMISSIONS, control: false }, consentRequired: false });
    const agent = agents.stopAfter(run.agent);
    const before = await agent.relay.next('consent');
    assert.equal(before.accepted, true);
    agent.relay.send({
      type: 'permission-request',
      requested: { ...NOTHING, control: true, shell: true },
      operator: BEA,
    });
    const answer = await agent.relay.next('permissions');
    assert.equal(answer.permissions.shell, true);
    assert.equal(answer.permissions.control, false);
    assert.equal(run.user.asked.length, 0);
  });

  it('before consent a request is ignored: the operator-joined request is the question then', async () => {
    const user = new AskedUser(VIEW_CHAT);
    const agent = await agents.start({ ui: user, join: false });
    agent.relay.send({ type: 'permission-request', requested: { ...NOTHING, shell: true }, operator: BEA });
    await agent.relay.join();
    agent.relay.send({ type: 'permission-request', requested: { ...NOTHING, view: true }, operator: BEA });
    await agent.relay.next('permissions');
    assert.equal(agent.relay.messages('permissions').length, 1);
    assert.equal(user.asked.length, 0);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConnectedOperator } from '../../agent/core/ports.ts';
import { ALL_PERMISSIONS, type OperatorInfo } from '../../protocol/index.ts';
import { waitFor } from '../support/processes.ts';
import { RecordingUser, useTestAgent } from './channel-relay.ts';

// The agent core with several operators (README "Several operators"): the end user is asked before
// each additional operator joins, and sees who is connected.

/** A user whose consent and join answers the test gives, one at a time. */
class DecidingUser extends RecordingUser {
  readonly joinsAsked: OperatorInfo[] = [];
  readonly lists: (readonly ConnectedOperator[])[] = [];
  private consentAnswer: ((accepted: boolean) => void) | undefined;
  private joinAnswers: ((accepted: boolean) => void)[] = [];

  override async askConsent() {
    const accepted = await new Promise<boolean>((resolve) => {
      this.consentAnswer = resolve;
    });
    return { accepted, permissions: { ...ALL_PERMISSIONS } };
  }
  askJoin(operator: OperatorInfo): Promise<boolean> {
    this.joinsAsked.push(operator);
    return new Promise((resolve) => this.joinAnswers.push(resolve));
  }
  operatorsChanged(operators: readonly ConnectedOperator[]): void {
    this.lists.push(operators);
  }
  /** Answers the consent question once it is asked. */
  async consent(accepted: boolean): Promise<void> {
    await waitFor('the consent question', () => this.consentAnswer);
    this.consentAnswer?.(accepted);
  }
  answerJoin(accepted: boolean): void {
    this.joinAnswers.shift()?.(accepted);
  }
}

const DANA = { id: 'op-dana', name: 'Dana' };
const SAM = { id: 'op-sam', name: 'Sam' };

describe('the agent with several operators', () => {
  const agents = useTestAgent();

  it('says who is let in: its consent names the operator asked about, and one who came meanwhile is asked next', async () => {
    const user = new DecidingUser();
    const agent = await agents.start({ ui: user, join: false });
    assert.ok(agent.session.features.includes('operators'), 'the hello says it asks for each operator');
    agent.relay.send({ type: 'operator-joined', operator: DANA, requested: ALL_PERMISSIONS, slot: 4 });
    agent.relay.send({ type: 'operator-joined', operator: SAM, requested: ALL_PERMISSIONS, slot: 5 });
    await user.consent(true);
    const consent = await agent.relay.next('consent');
    assert.deepEqual([consent.accepted, consent.slot], [true, 4]);
    await waitFor('the question about Sam', () => user.joinsAsked.length === 1 || undefined);
    assert.deepEqual(user.joinsAsked, [SAM]);
    user.answerJoin(false);
    assert.deepEqual(await agent.relay.next('join-answer'), {
      type: 'join-answer',
      slot: 5,
      accepted: false,
    });
  });

  it('lets in at once an operator the user let in before, and asks again about one the user removed', async () => {
    const user = new DecidingUser();
    const agent = await agents.start({ ui: user, join: false });
    agent.relay.send({ type: 'operator-joined', operator: DANA, requested: ALL_PERMISSIONS, slot: 1 });
    await user.consent(true);
    await agent.relay.next('consent');

    agent.relay.send({ type: 'operator-joined', operator: SAM, requested: ALL_PERMISSIONS, slot: 2 });
    await waitFor('the question about Sam', () => user.joinsAsked.length === 1 || undefined);
    user.answerJoin(true);
    assert.equal((await agent.relay.next('join-answer')).accepted, true);

    // Sam reloads the console: a new connection, not asked about again.
    agent.relay.send({ type: 'operator-left', operatorId: SAM.id, slot: 2 });
    agent.relay.send({ type: 'operator-joined', operator: SAM, requested: ALL_PERMISSIONS, slot: 3 });
    assert.deepEqual(await agent.relay.next('join-answer', 1), {
      type: 'join-answer',
      slot: 3,
      accepted: true,
    });
    assert.equal(user.joinsAsked.length, 1);

    agent.relay.send({
      type: 'participants',
      operators: [
        { slot: 1, ...DANA },
        { slot: 3, ...SAM },
      ],
      controlSlot: 1,
    });
    await waitFor('the list of operators', () => user.lists.length === 1 || undefined);
    assert.deepEqual(user.lists[0], [
      { slot: 1, name: 'Dana', inControl: true },
      { slot: 3, name: 'Sam', inControl: false },
    ]);

    // The user removes Sam; when Sam comes back, the user is asked again.
    assert.equal(agent.session.removeOperator(3), true);
    assert.deepEqual(await agent.relay.next('operator-remove'), { type: 'operator-remove', slot: 3 });
    agent.relay.send({ type: 'operator-left', operatorId: SAM.id, slot: 3 });
    agent.relay.send({ type: 'operator-joined', operator: SAM, requested: ALL_PERMISSIONS, slot: 6 });
    await waitFor('the question about Sam again', () => user.joinsAsked.length === 2 || undefined);
    user.answerJoin(true);
    assert.deepEqual(await agent.relay.next('join-answer', 2), {
      type: 'join-answer',
      slot: 6,
      accepted: true,
    });
  });
});

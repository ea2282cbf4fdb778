import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeVideo,
  FrameKind,
  NO_PERMISSIONS,
  type Permissions,
  VIDEO_HEADER_BYTES,
} from '../../protocol/index.ts';
import { joinOperator, type RelayClient, useRelayPlane } from './relay-client.ts';

const VIEW_ONLY: Permissions = { ...NO_PERMISSIONS, view: true };
const FRAME_DATA_BYTES = 1_000;
const FRAME_BYTES = VIDEO_HEADER_BYTES + FRAME_DATA_BYTES;

describe('relay: video on the way to operators, reported to the agent so it can pace its pictures', () => {
  const relay = useRelayPlane();

  /** The agent sends `count` video frames and the operator receives them all. */
  async function sendFrames(agent: RelayClient, operator: RelayClient, count: number): Promise<void> {
    const before = operator.videos().length;
    for (let i = 0; i < count; i++) {
      await agent.sendBytes(
        encodeVideo({
          keyframe: i === 0,
          sequence: i,
          captureTime: Date.now(),
          data: new Uint8Array(FRAME_DATA_BYTES),
        }),
      );
    }
    await operator.until(() => operator.videos().length >= before + count, `${count} frames at the operator`);
  }

  it('the agent hears the bytes an operator was sent and has not yet reported received, and when they arrived', async () => {
    const { agent, operator } = await relay.session(VIEW_ONLY);
    await sendFrames(agent, operator, 5);
    operator.send({ type: 'video-received', bytes: FRAME_BYTES });
    const behind = await agent.next('video-backlog');
    assert.equal(behind.bytes, 4 * FRAME_BYTES);
    operator.send({ type: 'video-received', bytes: 5 * FRAME_BYTES });
    await agent.until(
      () => agent.messages('video-backlog').some((report) => report.bytes === 0),
      'a report that nothing is on the way any more',
    );
  });

  it("the agent hears the slowest console's own word that it is behind, and nothing from a console that does not say", async () => {
    const { agent, operator } = await relay.session(VIEW_ONLY);
    await sendFrames(agent, operator, 5);
    operator.send({ type: 'video-received', bytes: FRAME_BYTES });
    const silent = await agent.next('video-backlog');
    assert.equal(silent.behind, undefined, 'an older console says nothing: no verdict');
    assert.equal('behind' in silent, false);
    operator.send({ type: 'video-received', bytes: 2 * FRAME_BYTES, behind: true });
    await agent.until(
      () => agent.messages('video-backlog').some((report) => report.behind === true),
      'a report that the console is behind',
    );
    operator.send({ type: 'video-received', bytes: 5 * FRAME_BYTES, behind: false });
    await agent.until(
      () => agent.messages('video-backlog').some((report) => report.bytes === 0 && report.behind === false),
      'a report that the console keeps up again',
    );
  });

  it('a receipt whose behind is not a boolean is dropped, and the backlog stays as it was', async () => {
    const { agent, operator } = await relay.session(VIEW_ONLY);
    await sendFrames(agent, operator, 3);
    const before = relay.cp.services.relay.stats().malformedFrames;
    const bad = JSON.stringify({ type: 'video-received', bytes: 2 * FRAME_BYTES, behind: 'yes' });
    await operator.sendBytes(new Uint8Array([FrameKind.control, ...new TextEncoder().encode(bad)]));
    operator.send({ type: 'video-received', bytes: FRAME_BYTES });
    await agent.until(() => agent.messages('video-backlog').length > 0, 'a backlog report');
    // Had the bad receipt been believed, 2 frames would read as received and the later one ignored.
    for (const report of agent.messages('video-backlog')) {
      assert.equal(report.bytes, 2 * FRAME_BYTES);
      assert.equal(report.behind, undefined);
    }
    assert.equal(relay.cp.services.relay.stats().malformedFrames, before + 1);
  });

  it('a receipt for more than was sent, or for less than before, is ignored', async () => {
    const { agent, operator } = await relay.session(VIEW_ONLY);
    await sendFrames(agent, operator, 3);
    operator.send({ type: 'video-received', bytes: 3 * FRAME_BYTES + 1 });
    operator.send({ type: 'video-received', bytes: 2 * FRAME_BYTES });
    operator.send({ type: 'video-received', bytes: FRAME_BYTES });
    // The first receipt believed starts the reports; the later, smaller one changes nothing.
    await agent.until(() => agent.messages('video-backlog').length > 0, 'a backlog report');
    for (const report of agent.messages('video-backlog')) assert.equal(report.bytes, FRAME_BYTES);
  });

  it("an operator's preference reaches the agent while viewing is allowed, and not otherwise", async () => {
    const viewing = await relay.session(VIEW_ONLY);
    viewing.operator.send({ type: 'video-preference', prefer: 'quality' });
    assert.equal((await viewing.agent.next('video-preference')).prefer, 'quality');

    const blind = await relay.session({ ...NO_PERMISSIONS, chat: true });
    blind.operator.send({ type: 'video-preference', prefer: 'quality' });
    // A round trip through the agent: anything sent before the ping has been passed on by then.
    blind.operator.send({ type: 'ping', id: 7 });
    await blind.agent.next('ping');
    assert.equal(blind.agent.messages('video-preference').length, 0);
  });

  it("the agent's adaptation reaches the operators, and an operator who joins later hears the last", async () => {
    const { agent, operator, sessionId } = await relay.session(VIEW_ONLY);
    const adaptation = {
      type: 'video-adaptation',
      fps: 10,
      maxFps: 30,
      prefer: 'speed',
      backlogMs: 420,
    } as const;
    agent.send(adaptation);
    assert.deepEqual(await operator.next('video-adaptation'), adaptation);
    const { operator: later } = await joinOperator(relay.cp, sessionId, relay.cookie);
    relay.sockets.push(later);
    assert.deepEqual(await later.next('video-adaptation'), adaptation);
  });
});

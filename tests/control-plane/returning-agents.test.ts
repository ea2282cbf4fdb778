import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReturningAgents } from '../../control-plane/relay/returning-agents.ts';

describe('sessions waiting for their agents after a restart', () => {
  it('an agent that arrives before the deadline cancels it: the session is not ended', async () => {
    const ended: string[] = [];
    const returning = new ReturningAgents(async (id) => {
      ended.push(id);
    });
    returning.wait('s1', 50);
    await returning.arrived('s1');
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.deepEqual(ended, []);
  });

  it('a session whose agent does not arrive is ended once', async () => {
    const ended: string[] = [];
    const returning = new ReturningAgents(async (id) => {
      ended.push(id);
    });
    returning.wait('s1', 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await returning.arrived('s1');
    assert.deepEqual(ended, ['s1']);
  });

  it('an agent arriving while its session is being ended waits for the end, so it reads it as ended', async () => {
    let finish: () => void = () => {};
    let done = false;
    const returning = new ReturningAgents(
      () =>
        new Promise<void>((resolve) => {
          finish = () => {
            done = true;
            resolve();
          };
        }),
    );
    returning.wait('s1', 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const arrival = returning.arrived('s1').then(() => done);
    finish();
    assert.equal(await arrival, true, 'arrived() resolved only after the end was recorded');
  });

  it('clear() cancels every deadline (a stop: the next start sets them again)', async () => {
    const ended: string[] = [];
    const returning = new ReturningAgents(async (id) => {
      ended.push(id);
    });
    returning.wait('s1', 20);
    returning.wait('s2', 20);
    returning.clear();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(ended, []);
  });
});

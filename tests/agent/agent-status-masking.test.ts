import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ShellStream } from '../../protocol/index.ts';
import { startAgent, type TestAgent, WAIT_MS } from './channel-relay.ts';

describe("the end user's status lines", () => {
  let agent: TestAgent | undefined;
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
  });

  it('a command is shown with its secrets masked, and runs as it was typed', async () => {
    agent = await startAgent();
    const channel = agent.channel(1);
    agent.relay.send({
      type: 'exec',
      channel,
      command: 'API_TOKEN=tok-s3cr3t sh -c \'echo "$API_TOKEN"\' --password=pw-s3cr3t',
      timeoutMs: WAIT_MS,
      maxOutputBytes: 100,
    });
    await agent.relay.next('shell-exit', 0, channel);
    assert.equal(agent.relay.output(channel, ShellStream.stdout), 'tok-s3cr3t\n', 'the command ran unmasked');
    const line = agent.user.statuses.find((status) => status.includes('runs a command'));
    assert.ok(line?.includes('API_TOKEN=*** sh -c'), line);
    assert.ok(!agent.user.statuses.join('\n').includes('s3cr3t'), 'a status line shows a secret');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShellStream } from '../../protocol/index.ts';
import { useTestAgent } from './channel-relay.ts';

describe("the end user's status lines", () => {
  const agents = useTestAgent();

  it('a command is shown with its secrets masked, and runs as it was typed', async () => {
    const agent = await agents.start();
    const channel = agent.channel(1);
    agent.relay.exec(channel, 'API_TOKEN=tok-s3cr3t sh -c \'echo "$API_TOKEN"\' --password=pw-s3cr3t');
    await agent.relay.next('shell-exit', 0, channel);
    assert.equal(agent.relay.output(channel, ShellStream.stdout), 'tok-s3cr3t\n', 'the command ran unmasked');
    const line = agent.user.statuses.find((status) => status.includes('runs a command'));
    assert.ok(line?.includes('API_TOKEN=*** sh -c'), line);
    assert.ok(!agent.user.statuses.join('\n').includes('s3cr3t'), 'a status line shows a secret');
  });
});

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MAX_AGENT_BUFFERED_BYTES } from '../../agent/core/uplink.ts';
import { encodeShellData, ShellStream } from '../../protocol/index.ts';
import { waitFor } from '../support/processes.ts';
import { startAgent, type TestAgent } from './channel-relay.ts';

/** How long the slow relay keeps not reading, in milliseconds: ample for an unbounded producer to pile up megabytes. */
const STALL_MS = 2_000;

describe('back-pressure from the socket to the shell', () => {
  let agent: TestAgent | undefined;
  after(async () => {
    agent?.relay.resume();
    await agent?.stop();
  });

  it('a shell that floods output is paused while the socket holds more than 1 MiB, and resumes when it drains', async () => {
    let socket: WebSocket | undefined;
    agent = await startAgent({
      openSocket: (url) => {
        socket = new WebSocket(url);
        return socket;
      },
    });
    const { relay } = agent;
    const channel = agent.channel(1);
    relay.send({ type: 'shell-open', channel, cols: 80, rows: 24 });
    await relay.next('shell-opened', 0, channel);
    const received = () => relay.shellFrames(channel).reduce((sum, frame) => sum + frame.data.byteLength, 0);
    await relay.until(() => received() > 0, 'the prompt');
    relay.pause();
    relay.sendBytes(
      encodeShellData({ channel, stream: ShellStream.terminal, data: new TextEncoder().encode('yes\r') }),
    );
    await waitFor('the socket to fill up', () => socket!.bufferedAmount > MAX_AGENT_BUFFERED_BYTES);
    await new Promise((resolve) => setTimeout(resolve, STALL_MS));
    // Without back-pressure `yes` adds megabytes every second; with it, at most a few reads of the
    // PTY land after the bound is crossed.
    assert.ok(
      socket!.bufferedAmount < MAX_AGENT_BUFFERED_BYTES + 512 * 1024,
      `${socket!.bufferedAmount} bytes queued on the agent's socket`,
    );
    const before = received();
    relay.resume();
    await relay.until(
      () => received() > before + 8 * 1024 * 1024,
      'the shell to go on once the socket drained',
    );
    relay.send({ type: 'channel-close', channel });
  });
});

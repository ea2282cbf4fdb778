import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { encodeShellData, ShellStream } from '../../protocol/index.ts';
import { isAlive, waitFor } from '../support/processes.ts';
import { startAgent, type TestAgent, WAIT_MS } from './channel-relay.ts';

const encoder = new TextEncoder();

describe('shells and commands on the agent (real PTY, real processes)', () => {
  let agent: TestAgent | undefined;
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
  });

  /** Types a line into the shell on `channel`. */
  function type(channel: number, line: string): void {
    agent!.relay.sendBytes(
      encodeShellData({ channel, stream: ShellStream.terminal, data: encoder.encode(`${line}\r`) }),
    );
  }

  /** Asks the agent to run `command` on `channel` (1 KiB of output and WAIT_MS unless told otherwise). */
  function exec(
    channel: number,
    command: string,
    options: { cwd?: string; timeoutMs?: number; maxOutputBytes?: number } = {},
  ): void {
    agent!.relay.exec(channel, command, { maxOutputBytes: 1024, ...options });
  }

  it('opens a shell in a PTY that runs what the operator types, in the shared folder', async () => {
    agent = await startAgent();
    const { relay } = agent;
    const channel = agent.channel(1);
    relay.send({ type: 'shell-open', channel, cols: 80, rows: 24 });
    const opened = await relay.next('shell-opened', 0, channel);
    assert.match(opened.shell, /sh$/);
    type(channel, 'echo $((6*7)); pwd');
    await relay.until(() => /[\r\n]42\r?\n/.test(relay.output(channel, 0)), 'the shell to print 42');
    await relay.until(() => relay.output(channel, 0).includes(agent!.root), 'the shell to print its folder');
    assert.ok(agent.user.statuses.some((line) => /Dana opened a command shell/.test(line)));
  });

  it('a resize reaches the terminal: stty size follows it', async () => {
    agent = await startAgent();
    const { relay } = agent;
    const channel = agent.channel(1);
    relay.send({ type: 'shell-open', channel, cols: 80, rows: 24 });
    await relay.next('shell-opened', 0, channel);
    type(channel, 'stty size');
    await relay.until(() => relay.output(channel, 0).includes('24 80'), 'stty size to say 24 80');
    relay.send({ type: 'shell-resize', channel, cols: 132, rows: 40 });
    type(channel, 'stty size');
    await relay.until(() => relay.output(channel, 0).includes('40 132'), 'stty size to say 40 132');
  });

  it('a shell that exits is reported with shell-exit', async () => {
    agent = await startAgent();
    const { relay } = agent;
    const channel = agent.channel(1);
    relay.send({ type: 'shell-open', channel, cols: 80, rows: 24 });
    await relay.next('shell-opened', 0, channel);
    type(channel, 'exit 3');
    const exit = await relay.next('shell-exit', 0, channel);
    assert.equal(exit.exitCode, 3);
  });

  it('exec returns stdout, stderr and the exit code separately', async () => {
    agent = await startAgent();
    const { relay } = agent;
    const channel = agent.channel(2);
    exec(channel, 'echo out; echo err >&2; exit 7');
    const exit = await relay.next('shell-exit', 0, channel);
    assert.equal(relay.output(channel, ShellStream.stdout), 'out\n');
    assert.equal(relay.output(channel, ShellStream.stderr), 'err\n');
    assert.equal(exit.exitCode, 7);
    assert.equal(exit.timedOut, undefined);
    assert.equal(exit.truncated, undefined);
    assert.ok(typeof exit.durationMs === 'number');
    // shell-exit comes after the last output frame.
    const last = relay.received.findLastIndex((frame) => frame.kind === 'shell' && frame.channel === channel);
    const exitAt = relay.received.findIndex((f) => f.kind === 'control' && f.message.type === 'shell-exit');
    assert.ok(last < exitAt);
    assert.ok(
      agent.user.statuses.some((line) => line.includes('runs a command: echo out; echo err >&2; exit 7')),
    );
  });

  it('exec runs in a folder inside the shared folder, and refuses one outside it', async () => {
    agent = await startAgent();
    const { relay } = agent;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(`${agent.root}/sub`);
    exec(agent.channel(1), 'pwd', { cwd: 'sub' });
    await relay.next('shell-exit', 0, agent.channel(1));
    assert.equal(relay.output(agent.channel(1), ShellStream.stdout), `${agent.root}/sub\n`);
    exec(agent.channel(2), 'pwd', { cwd: '../' });
    const refused = await relay.next('channel-error', 0, agent.channel(2));
    assert.equal(refused.code, 'PATH_OUTSIDE_FOLDER');
  });

  it('a command past its timeout is killed and reported timedOut', async () => {
    agent = await startAgent();
    const { relay } = agent;
    const channel = agent.channel(1);
    exec(channel, 'echo started; sleep 600', { timeoutMs: 500 });
    const exit = await relay.next('shell-exit', 0, channel);
    assert.equal(exit.timedOut, true);
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(relay.output(channel, ShellStream.stdout), 'started\n');
  });

  it('a command whose output passes maxOutputBytes is killed, sends exactly that much and is reported truncated', async () => {
    agent = await startAgent();
    const { relay } = agent;
    const channel = agent.channel(1);
    exec(channel, 'yes lifeline', { maxOutputBytes: 100_000 });
    const exit = await relay.next('shell-exit', 0, channel);
    assert.equal(exit.truncated, true);
    assert.equal(exit.timedOut, undefined);
    assert.equal(relay.output(channel, ShellStream.stdout).length, 100_000);
  });

  it('channel-close kills a command and the processes it started', async () => {
    agent = await startAgent();
    const { relay } = agent;
    const channel = agent.channel(1);
    exec(channel, 'sleep 600 & echo $$ $!; wait', { timeoutMs: WAIT_MS * 10 });
    await relay.until(() => /\d+ \d+\n/.test(relay.output(channel, ShellStream.stdout)), 'the pids');
    const pids = relay.output(channel, ShellStream.stdout).trim().split(' ').map(Number);
    assert.ok(pids.every(isAlive));
    relay.send({ type: 'channel-close', channel });
    await waitFor('the shell and its sleep to be killed', () => pids.every((pid) => !isAlive(pid)));
    // The kill is synchronous; the agent forgets the command once Node has reaped it.
    await waitFor('the command to be forgotten', () => agent!.live.size === 0);
  });

  it('channel-close of a shell kills what it detached with nohup and setsid -f, which ignore the hang-up', async () => {
    agent = await startAgent();
    const { relay } = agent;
    const channel = agent.channel(1);
    relay.send({ type: 'shell-open', channel, cols: 80, rows: 24 });
    await relay.next('shell-opened', 0, channel);
    type(channel, `nohup sh -c 'echo $$ > a; exec sleep 1000' > /dev/null 2>&1 &`);
    type(channel, `setsid -f sh -c 'echo $$ > b; exec sleep 1000' > /dev/null 2>&1`);
    const { readFileSync } = await import('node:fs');
    const pids = await waitFor('both pids', () => {
      const read = (file: string) => Number(readFileSync(`${agent!.root}/${file}`, 'utf8'));
      const found = [read('a'), read('b')];
      return found.every((pid) => pid > 0) && found;
    });
    assert.ok(pids.every(isAlive));
    relay.send({ type: 'channel-close', channel });
    await waitFor('the detached processes to be killed', () => pids.every((pid) => !isAlive(pid)));
  });

  it('revoking shell kills an open shell and tells the operator CAPABILITY_NOT_ALLOWED', async () => {
    agent = await startAgent();
    const { relay, session } = agent;
    const channel = agent.channel(1);
    relay.send({ type: 'shell-open', channel, cols: 80, rows: 24 });
    await relay.next('shell-opened', 0, channel);
    type(channel, 'echo pid=$$');
    await relay.until(() => /pid=\d+/.test(relay.output(channel, 0)), 'the shell pid');
    const pid = Number(/pid=(\d+)/.exec(relay.output(channel, 0))![1]);
    await session.setPermissions({ ...session.currentPermissions, shell: false });
    const error = await relay.next('channel-error', 0, channel);
    assert.equal(error.code, 'CAPABILITY_NOT_ALLOWED');
    await waitFor('the shell to be killed', () => !isAlive(pid));
    assert.ok(agent.user.statuses.includes('You turned off a command shell: stopped 1 shell or command.'));
    // Nothing more on the closed channel, and new shells are refused.
    relay.send({ type: 'shell-open', channel: agent.channel(2), cols: 80, rows: 24 });
    assert.equal((await relay.next('channel-error', 0, agent.channel(2))).code, 'CAPABILITY_NOT_ALLOWED');
    assert.equal(relay.messages('shell-exit', channel).length, 0);
  });

  it('the end of the session kills every shell and command', async () => {
    agent = await startAgent();
    const { relay } = agent;
    relay.send({ type: 'shell-open', channel: agent.channel(1), cols: 80, rows: 24 });
    await relay.next('shell-opened', 0, agent.channel(1));
    type(agent.channel(1), 'echo pid=$$');
    exec(agent.channel(2), 'sleep 600 & echo $!; wait', { timeoutMs: WAIT_MS * 10 });
    await relay.until(() => /pid=\d+/.test(relay.output(agent!.channel(1), 0)), 'the shell pid');
    await relay.until(
      () => /\d+\n/.test(relay.output(agent!.channel(2), ShellStream.stdout)),
      'the sleep pid',
    );
    const shellPid = Number(/pid=(\d+)/.exec(relay.output(agent.channel(1), 0))![1]);
    const sleepPid = Number(relay.output(agent.channel(2), ShellStream.stdout).trim());
    await agent.session.end();
    await waitFor('the shell and the command to be killed', () => !isAlive(shellPid) && !isAlive(sleepPid));
  });
});

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { channelId, encodeShellData, ShellStream } from '../../protocol/index.ts';
import type { RelayClient } from '../control-plane/relay-client.ts';
import { joinAgentSession, spawnAgent } from '../support/agent-process.ts';
import { apiClient, expectJson } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { permissionsWith } from '../support/permissions.ts';
import { isAlive, type Spawned, waitFor } from '../support/processes.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

/**
 * Every way a child of a shell or command can leave its parent's process group and session. Each
 * starts a `sleep` that first writes its own pid to `file` (in the shared folder, where shells and
 * commands start).
 */
function daemon(file: string): string {
  return `sh -c 'echo $$ > ${file}; exec sleep 1000'`;
}
const DETACHES: Record<string, (file: string) => string> = {
  'a background job (&)': (file) => `${daemon(file)} > /dev/null 2>&1 &`,
  nohup: (file) => `nohup ${daemon(file)} > /dev/null 2>&1 &`,
  setsid: (file) => `setsid ${daemon(file)} > /dev/null 2>&1 &`,
  'a double fork': (file) => `( ( ${daemon(file)} > /dev/null 2>&1 & ) & )`,
  'setsid -f': (file) => `setsid -f ${daemon(file)} > /dev/null 2>&1`,
  // A daemon as daemon(3) makes one: fork, new session, fork again, its own process group, cwd /.
  'a daemon in its own process group': (file) =>
    `perl -MPOSIX -e 'exit if fork; POSIX::setsid(); exit if fork; setpgrp(0, 0); open(my $f, ">", "${file}"); print $f "$$\\n"; close $f; chdir "/"; open(STDIN, "</dev/null"); open(STDOUT, ">/dev/null"); open(STDERR, ">/dev/null"); sleep 1000'`,
};
const WAYS = Object.entries(DETACHES).map(([way, line], n) => ({
  way,
  file: `pid.${n}`,
  line: line(`pid.${n}`),
}));

const encoder = new TextEncoder();

/**
 * The real agent (agent/main.ts, as an end user runs it) joined to a real control plane, with an
 * operator on the relay: whatever a command or a shell detached is gone, by pid, once the session
 * ends — the agent finds it by the mark in its environment, not by its process group.
 */
describe('nothing a shell or command started outlives the session (real agent)', () => {
  let xvfb: Xvfb;
  let cp: TestControlPlane;
  let cookie: string;
  let agent: Spawned | undefined;
  let operator: RelayClient | undefined;
  let shared: string | undefined;
  let pids: number[] = [];

  before(async () => {
    xvfb = await startXvfb({ width: 320, height: 240 });
    cp = await startControlPlane({ listen: true });
    cookie = await loginCookie(cp.app);
  });

  after(async () => {
    await cp?.stop();
    await xvfb?.stop();
  });

  afterEach(async () => {
    await operator?.close();
    await agent?.kill();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone, as it should be.
      }
    }
    if (shared) rmSync(shared, { recursive: true, force: true });
    operator = agent = undefined;
    pids = [];
  });

  /** Starts the agent with a code, lets an operator in on the relay and gets the shell allowed. */
  async function startSession(): Promise<{ sessionId: string; slot: number }> {
    shared = realpathSync(mkdtempSync(join(tmpdir(), 'lifeline-detach-')));
    const api = apiClient(cp);
    const created = await expectJson<{ session: { id: string }; code: string }>(
      await api.post('/api/sessions', { cookie }, {}),
      201,
    );
    const started = spawnAgent({
      server: cp.url,
      display: xvfb.display,
      code: created.code,
      filesRoot: shared,
    });
    agent = started;
    const sessionId = created.session.id;
    const joined = await joinAgentSession(cp, sessionId, cookie, {
      picture: false,
      context: () => started.output(),
    });
    operator = joined.operator;
    operator.send({
      type: 'permission-request',
      requested: permissionsWith({ view: true, shell: true }),
    });
    await operator.until(
      () => operator!.messages('permissions').some((message) => message.permissions.shell),
      'the shell to be allowed',
      20_000,
    );
    return { sessionId, slot: joined.welcome.slot! };
  }

  /** Waits until every way of detaching wrote its pid, and checks they all run. */
  async function detachedPids(): Promise<number[]> {
    const folder = shared!;
    const read = (file: string) => {
      const text = existsSync(join(folder, file)) ? readFileSync(join(folder, file), 'utf8') : '';
      return text.endsWith('\n') ? Number(text) : undefined;
    };
    pids = await waitFor(
      `${WAYS.length} detached processes to start`,
      () => {
        const found = WAYS.map(({ file }) => read(file));
        return found.every((pid) => pid !== undefined) ? (found as number[]) : undefined;
      },
      20_000,
    );
    assert.ok(pids.every(isAlive), 'every detached process runs before the session ends');
    return pids;
  }

  async function endSession(sessionId: string): Promise<void> {
    await expectJson(await apiClient(cp).post(`/api/sessions/${sessionId}/end`, { cookie }), 200);
    const code = await Promise.race([
      agent!.exited,
      new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 20_000)),
    ]);
    assert.notEqual(code, 'running', `the agent exits: ${agent!.output()}`);
  }

  /** Runs one command per way of detaching, each followed by `then`. */
  function execEach(slot: number, then: (file: string) => string): number[] {
    return WAYS.map(({ file, line }, n) => {
      const channel = channelId(slot, n + 1);
      const command = `${line}\n${then(file)}`;
      operator!.send({ type: 'exec', channel, command, timeoutMs: 60_000, maxOutputBytes: 1024 });
      return channel;
    });
  }

  it('processes a command detached in every way are gone once the session ends', async () => {
    const { sessionId, slot } = await startSession();
    // Each command still runs when the session ends.
    execEach(slot, () => 'sleep 1000');
    const running = await detachedPids();
    await endSession(sessionId);
    await waitFor('every detached process to be gone', () => running.every((pid) => !isAlive(pid)));
  });

  it('processes a command detached in every way are gone once the command exits', async () => {
    const { slot } = await startSession();
    // Each command exits once told to, after the test saw its detached process running: exiting
    // at once would race the check, since the agent sweeps the moment a command exits.
    const channels = execEach(slot, (file) => `while [ ! -e ${file}.go ]; do sleep 0.1; done`);
    const running = await detachedPids();
    for (const { file } of WAYS) writeFileSync(join(shared!, `${file}.go`), '');
    await operator!.until(
      () => channels.every((channel) => operator!.messages('shell-exit').some((m) => m.channel === channel)),
      'every command to exit',
      20_000,
    );
    await waitFor('every detached process to be gone', () => running.every((pid) => !isAlive(pid)));
  });

  it('processes an interactive shell detached in every way are gone once the session ends', async () => {
    const { sessionId, slot } = await startSession();
    const channel = channelId(slot, 1);
    operator!.send({ type: 'shell-open', channel, cols: 100, rows: 30 });
    await operator!.next('shell-opened', 0, 20_000);
    for (const { line } of WAYS) {
      void operator!.sendBytes(
        encodeShellData({ channel, stream: ShellStream.terminal, data: encoder.encode(`${line}\r`) }),
      );
    }
    const running = await detachedPids();
    await endSession(sessionId);
    await waitFor('every detached process to be gone', () => running.every((pid) => !isAlive(pid)));
  });
});

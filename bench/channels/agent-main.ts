/**
 * A real agent for the channels benchmark, in its own process: `AgentSession` from agent/core with
 * the Node hosts (shells in node-pty, commands with child_process, files with node:fs under
 * LIFELINE_BENCH_FILES_ROOT), registered with the control plane at LIFELINE_BENCH_SERVER, its signed
 * policy verified, consenting automatically with chat, files and shell allowed (as `--accept
 * --allow chat,files,shell` would, with every allowed capability ticked). No screen and no input.
 *
 * IPC: sends `{ type: 'ready', sessionId, code }` once the relay welcomed it; on `{ type: 'stop' }`
 * ends the session, stops every shell and command still running, sends `{ type: 'stopped', ... }`
 * and exits.
 */
import { AgentSession } from '../../agent/core/agent-session.ts';
import { verifyPolicyToken } from '../../agent/core/policy.ts';
import type { InputSink, ScreenSource, UserInterface } from '../../agent/core/ports.ts';
import { register } from '../../agent/core/registration.ts';
import { createNodeFileHost } from '../../agent/files/node-file-host.ts';
import { resolveFilesRoot } from '../../agent/node/files-root.ts';
import { hostInfo } from '../../agent/node/host-info.ts';
import { installWebSocket } from '../../agent/node/websocket.ts';
import { createCommandHost } from '../../agent/shell/command-host.ts';
import { LiveProcesses } from '../../agent/shell/live-processes.ts';
import { createPtyShellHost } from '../../agent/shell/pty-shell-host.ts';
import type { Permissions } from '../../protocol/index.ts';

/** What the end user allows: everything but the screen, which this benchmark does not use. */
const ALLOWED: Permissions = {
  view: false,
  control: false,
  chat: true,
  files: true,
  shell: true,
  clipboard: false,
  guidance: false,
};

const server = process.env['LIFELINE_BENCH_SERVER'];
const filesRoot = process.env['LIFELINE_BENCH_FILES_ROOT'];
if (!server || !filesRoot) throw new Error('LIFELINE_BENCH_SERVER and LIFELINE_BENCH_FILES_ROOT must be set');
// As `--files-root` does: the folder's real path, against which every wire path is checked.
const root = resolveFilesRoot(filesRoot);

const send = (message: unknown) => process.send?.(message);
const statuses: string[] = [];

/** The end user, consenting at once to everything allowed and keeping the status lines shown. */
const user: UserInterface = {
  showCode: () => {},
  askConsent: async () => ({ accepted: true, permissions: { ...ALLOWED } }),
  status: (text) => {
    statuses.push(text);
  },
  permissionsChanged: () => {},
  ended: () => {},
  chatReceived: () => {},
};
const noScreen: ScreenSource = { start: async () => ({ stop: async () => {}, requestKeyframe: () => {} }) };
const noInput: InputSink = { apply: () => {}, releaseAll: () => {} };

await installWebSocket();
const info = hostInfo(undefined);
const registration = await register(server, info);
if (!registration.policyToken) throw new Error('the control plane sent no signed policy');
const policy = await verifyPolicyToken(server, registration.sessionId, registration.policyToken);
const live = new LiveProcesses();
const session = new AgentSession({
  policy,
  relayUrl: registration.relay.url,
  token: registration.relay.token,
  client: info,
  ui: user,
  allowed: ALLOWED,
  screen: noScreen,
  input: noInput,
  shells: createPtyShellHost({ root, live }),
  commands: createCommandHost({ root, live }),
  files: createNodeFileHost(root),
});
await session.connect();

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 5_000).unref();
  await session.end('user-ended');
  const running = live.size;
  live.stopAll();
  const stopped = {
    type: 'stopped',
    runningAtEnd: running,
    malformedFrames: session.malformedFrames,
    statusLines: statuses.length,
  };
  // Exit once the message is out: exiting at once could lose it.
  if (process.send && process.connected) process.send(stopped, () => process.exit(0));
  else process.exit(0);
}

process.on('message', (message: { type?: string }) => {
  if (message.type === 'stop') void stop();
});
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
process.on('exit', () => live.stopAll());
void session.done.then((outcome) => {
  if (!stopping) {
    process.stderr.write(`the session ended: ${outcome.reason} ${outcome.message ?? ''}\n`);
    void stop();
  }
});
send({ type: 'ready', sessionId: registration.sessionId, code: registration.code });

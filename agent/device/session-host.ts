import { createLocalJWKSet, type JWK } from 'jose';
import { grantedCapabilities, NO_PERMISSIONS, type Permissions } from '../../protocol/index.ts';
import { AgentSession } from '../core/agent-session.ts';
import { verifyPolicyToken } from '../core/policy.ts';
import type { InputSink, ScreenSource, UserInterface } from '../core/ports.ts';
import { channelHosts } from '../node/channel-hosts.ts';
import { hostInfo } from '../node/host-info.ts';
import { TerminalUi } from '../node/terminal-ui.ts';
import { LiveProcesses } from '../shell/live-processes.ts';
import { reachServer } from './device-outbound.ts';
import { SESSION_HOST_ENV, type SessionHostSpec, sessionHostSpecSchema } from './session-host-launcher.ts';

/** One line of structured log for the service's journal; never a token. */
function log(fields: Record<string, unknown>, message: string): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields, msg: message })}\n`);
}

/** A session host shares no screen: a request for it (which the grant already refuses) fails. */
const NO_SCREEN: ScreenSource = {
  start: () => Promise.reject(new Error('This session shares no screen.')),
};
const NO_INPUT: InputSink = { apply: () => {}, releaseAll: () => {} };

/**
 * The user interface of a hidden session host: nobody sits at it. It grants what the signed order
 * allowed (the session caps it again with the verified policy) and writes every status line to the
 * service's log.
 */
function hiddenUi(sessionId: string): UserInterface {
  return {
    showCode: () => {},
    askConsent: (operator, requested) => {
      log({ event: 'operator', sessionId, operator: operator.name }, 'operator connected');
      return Promise.resolve({ accepted: true, permissions: requested });
    },
    askMore: () => Promise.resolve({ ...NO_PERMISSIONS }),
    status: (text) => log({ event: 'status', sessionId }, text),
    permissionsChanged: (permissions) =>
      log({ event: 'permissions', sessionId, granted: grantedCapabilities(permissions) }, 'permissions'),
    ended: (reason) => log({ event: 'end', sessionId, reason }, 'session ended'),
  };
}

/** The spec the resident service put in the environment, removed from it at once. */
function takeSpec(): SessionHostSpec {
  const text = process.env[SESSION_HOST_ENV];
  delete process.env[SESSION_HOST_ENV];
  if (!text) throw new Error('lifeline-agent session-host is started by the resident service only.');
  return sessionHostSpecSchema.parse(JSON.parse(text));
}

/**
 * `lifeline-agent session-host`: the device side of one session the resident service was ordered
 * to join. It verifies the session's policy with the keys stored at enrolment, grants the order's
 * capabilities without asking, serves shells and files from the spec's folder as this process's
 * user, and exits when the session ends. Returns the exit status.
 */
export async function runSessionHost(): Promise<number> {
  const spec = takeSpec();
  const { attachment } = spec;
  await reachServer(spec, spec.server);
  const policy = await verifyPolicyToken(
    spec.server,
    attachment.sessionId,
    attachment.policyToken,
    createLocalJWKSet({ keys: spec.serverKeys.keys as JWK[] }),
  );
  const allowed: Permissions = { ...NO_PERMISSIONS, shell: spec.allowed.shell, files: spec.allowed.files };
  let ui: UserInterface;
  let terminal: TerminalUi | undefined;
  if (spec.notify) {
    process.stdout.write(
      `\n  Lifeline: ${spec.operator} of your help desk has opened a background session on this computer` +
        ` (${grantedCapabilities(allowed).join(' and ')}, no screen sharing).\n` +
        '  Everything they do is shown below. Press q to end it.\n',
    );
    terminal = new TerminalUi({
      autoAccept: true,
      input: process.stdin,
      output: process.stdout,
      filesRoot: spec.filesRoot,
    });
    ui = terminal;
  } else {
    ui = hiddenUi(attachment.sessionId);
  }
  const live = new LiveProcesses();
  const session = new AgentSession({
    policy,
    relayUrl: attachment.relay.url,
    token: attachment.relay.token,
    client: hostInfo(undefined),
    ui,
    allowed,
    grantAllowed: true,
    screen: NO_SCREEN,
    input: NO_INPUT,
    ...channelHosts(spec.filesRoot, live, (text) => ui.status(text)),
  });
  const end = () => void session.end('user-ended');
  if (terminal) terminal.onEnd = end;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, end);
  log({ event: 'start', sessionId: attachment.sessionId }, 'session host started');
  try {
    await session.connect();
    const outcome = await session.done;
    ui.ended(outcome.reason);
    return 0;
  } finally {
    terminal?.close();
    live.stopAll();
  }
}

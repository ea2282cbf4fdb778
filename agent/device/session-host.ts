import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, type JWK } from 'jose';
import type { z } from 'zod';
import { grantedCapabilities, NO_PERMISSIONS, type Permissions } from '../../protocol/index.ts';
import { AgentSession } from '../core/agent-session.ts';
import { verifyPolicyToken } from '../core/policy.ts';
import type { InputSink, ScreenSource, UserInterface } from '../core/ports.ts';
import { sessionFileHost } from '../files/device-roots.ts';
import { createInputInjector } from '../input/input-injector.ts';
import { resolveEncoderPrograms } from '../media/encoder-path.ts';
import { channelHosts } from '../node/channel-hosts.ts';
import { hostInfo } from '../node/host-info.ts';
import { printableLine } from '../node/printable.ts';
import { encodedScreenSource } from '../node/screen-source.ts';
import { TerminalUi } from '../node/terminal-ui.ts';
import { type PackagedRun, startPackagedRun } from '../packaging/packaged-run.ts';
import { currentPlatform } from '../platform/platform.ts';
import { LiveProcesses } from '../shell/live-processes.ts';
import { reachServer } from './device-outbound.ts';
import { reportToService, type sessionHostSpecSchema } from './session-host-launcher.ts';
import { WINDOWS_NOTICE_TITLE } from './windows/user-session.ts';

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

/** Frames per second a session host captures (the attended agent's default). */
const SCREEN_FPS = 30;

/** What the user at the device reads first in the host's terminal: who, what for, and what is shared. */
function noticeText(spec: z.output<typeof sessionHostSpecSchema>, allowed: Permissions): string {
  const operator = printableLine(spec.operator);
  if (spec.consent)
    return (
      `\n  Lifeline: ${operator} of your help desk offers to help you` +
      (spec.reason ? ` with: ${printableLine(spec.reason)}` : '') +
      '.\n  Nothing is shown to them unless you accept below.\n'
    );
  const what = allowed.view
    ? 'an unattended session on this computer (your screen is shared)'
    : `a background session on this computer (${grantedCapabilities(allowed).join(' and ')}, no screen sharing)`;
  return (
    `\n  Lifeline: ${operator} of your help desk has opened ${what}.\n` +
    '  Everything they do is shown below. Press q to end it.\n'
  );
}

/**
 * Makes this process (and so every shell it starts, every file it touches and the screen it
 * captures) run as `account` from here on, with all of its groups and its own environment (home,
 * X authority, runtime folder); the report socket, already open, stays open.
 */
function dropTo(account: z.output<typeof sessionHostSpecSchema>['runAs'] & {}): void {
  process.setgroups?.(account.groups.length > 0 ? account.groups : [account.gid]);
  process.setgid?.(account.gid);
  process.setuid?.(account.uid);
  if (process.getuid?.() !== account.uid) throw new Error(`Could not run as ${account.user}.`);
  Object.assign(process.env, { HOME: account.home, USER: account.user, LOGNAME: account.user });
  // The service's X cookie and runtime folder are root's: the user's own, where they have them.
  const xauthority = join(account.home, '.Xauthority');
  const runtime = `/run/user/${account.uid}`;
  for (const [name, path] of [
    ['XAUTHORITY', xauthority],
    ['XDG_RUNTIME_DIR', runtime],
  ] as const) {
    if (existsSync(path)) process.env[name] = path;
    else delete process.env[name];
  }
  process.chdir(account.home);
}

/**
 * `lifeline-agent session-host SOCKET`: the device side of one session the resident service was ordered
 * to join. It verifies the session's policy with the keys stored at enrolment, grants the order's
 * capabilities without asking, serves shells and files from the spec's folder as this process's
 * user, and exits when the session ends. Returns the exit status.
 */
export async function runSessionHost(report: string | undefined): Promise<number> {
  if (!report) throw new Error('lifeline-agent session-host is started by the resident service only.');
  // First: the service learns this host's own pid, whatever terminal shows it, and answers with the
  // spec (never through the environment, which a terminal server passes on to the next host).
  const { spec, tell } = await reportToService(report);
  // The packaged agent (Windows) unpacks its encoder, input add-on and PTY as the one-shot agent
  // does, into a private folder of this host's user, removed when it ends.
  let packaged: PackagedRun | undefined;
  let joined: Joined;
  try {
    packaged = startPackagedRun();
    joined = await joinSession(spec);
  } catch (error) {
    packaged?.workDir.remove();
    // The service ends the session with this reason, for the operator to read.
    tell({ failed: printableLine((error as Error).message).slice(0, 500) });
    throw error;
  }
  tell({ connected: true });
  const { session, ui, terminal, live } = joined;
  try {
    const outcome = await session.done;
    ui.ended(outcome.reason);
    return 0;
  } finally {
    terminal?.close();
    live.stopAll();
    packaged?.workDir.remove();
  }
}

/** A session host's session, connected to the relay, and what it ends with it. */
interface Joined {
  session: AgentSession;
  ui: UserInterface;
  terminal: TerminalUi | undefined;
  live: LiveProcesses;
}

/** Becomes the spec's user, verifies the session's policy and connects to the relay as its device side. */
async function joinSession(spec: z.output<typeof sessionHostSpecSchema>): Promise<Joined> {
  if (spec.runAs) dropTo(spec.runAs);
  const { attachment } = spec;
  await reachServer(spec, spec.server);
  const policy = await verifyPolicyToken(
    spec.server,
    attachment.sessionId,
    attachment.policyToken,
    createLocalJWKSet({ keys: spec.serverKeys.keys as JWK[] }),
  );
  const allowed: Permissions = { ...NO_PERMISSIONS, ...spec.allowed };
  let ui: UserInterface;
  let terminal: TerminalUi | undefined;
  if (spec.notify || spec.consent) {
    // Windows: the console window of its own (open-in-session) is titled as the notices are.
    if (process.platform === 'win32') process.title = WINDOWS_NOTICE_TITLE;
    process.stdout.write(noticeText(spec, allowed));
    terminal = new TerminalUi({
      autoAccept: !spec.consent,
      input: process.stdin,
      output: process.stdout,
      filesRoot: spec.filesRoot,
    });
    // Offered help: every drive or mount is the user's to grant on the consent screen.
    terminal.offerAllRoots = spec.consent && policy.filesAllRoots;
    ui = terminal;
  } else {
    ui = hiddenUi(attachment.sessionId);
  }
  // Every drive or mount where the policy allows it (as this process's user): an order is the
  // grant; offered help asks the user.
  const shown = terminal;
  const allRoots = spec.consent ? () => shown?.allRootsGranted === true : () => true;
  // The screen of the console user's display, where the order shares it; none otherwise.
  if (spec.display) process.env['DISPLAY'] = spec.display;
  const platform = spec.display ? currentPlatform() : undefined;
  const media = platform
    ? {
        screen: encodedScreenSource({ ...resolveEncoderPrograms(), platform, framerate: SCREEN_FPS }),
        input: createInputInjector({ screen: () => platform.screenSize() }),
      }
    : { screen: NO_SCREEN, input: NO_INPUT };
  const live = new LiveProcesses();
  const session = new AgentSession({
    policy,
    relayUrl: attachment.relay.url,
    token: attachment.relay.token,
    client: hostInfo(platform?.screenSize()),
    ui,
    allowed,
    // An order is the grant; offered help is the user's to grant, from what the operator asks.
    grantAllowed: !spec.consent,
    ...media,
    ...channelHosts(
      spec.filesRoot,
      live,
      (text) => ui.status(text),
      sessionFileHost(spec.filesRoot, policy, allRoots),
    ),
  });
  const end = () => void session.end('user-ended');
  if (terminal) terminal.onEnd = end;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, end);
  log({ event: 'start', sessionId: attachment.sessionId }, 'session host started');
  try {
    await session.connect();
  } catch (error) {
    terminal?.close();
    live.stopAll();
    throw error;
  }
  return { session, ui, terminal, live };
}

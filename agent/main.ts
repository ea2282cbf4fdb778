import { parseArgs } from 'node:util';
import type { StampConfig } from '../protocol/agent-stamp.ts';
import { CAPABILITIES, type Capability, type Permissions } from '../protocol/index.ts';
import { AgentSession } from './core/agent-session.ts';
import { AgentError } from './core/errors.ts';
import type { Invitation } from './core/invitation.ts';
import { type Attachment, joinWithCode } from './core/join.ts';
import { verifyPolicyToken } from './core/policy.ts';
import { register } from './core/registration.ts';
import {
  DEVICE_COMMANDS,
  DEVICE_HELP,
  type DeviceCommand,
  runDeviceCommand,
} from './device/device-commands.ts';
import { localPresence } from './device/presence.ts';
import { sessionFileHost } from './files/device-roots.ts';
import { createInputInjector } from './input/input-injector.ts';
import { resolveEncoderPrograms } from './media/encoder-path.ts';
import { channelHosts } from './node/channel-hosts.ts';
import { commandClipboard } from './node/command-clipboard.ts';
import { resolveFilesRoot } from './node/files-root.ts';
import { askToTrust, explain, firstContact, meetServer } from './node/first-contact.ts';
import { AGENT_VERSION, hostInfo } from './node/host-info.ts';
import { askForInvitation, parseMinutes, writeInvitationFile } from './node/invitation-prompt.ts';
import { LinePrompt } from './node/line-prompt.ts';
import { PlatformMonitors } from './node/monitor-layout.ts';
import { installOutbound, type Outbound } from './node/outbound.ts';
import { loadProxyAutoConfig } from './node/proxy-auto-config.ts';
import { ProxyConfigError, proxySettings, routeLine } from './node/proxy-settings.ts';
import { encodedScreenSource } from './node/screen-source.ts';
import { ServerTrust } from './node/server-identity.ts';
import { TerminalUi } from './node/terminal-ui.ts';
import { installWebSocket } from './node/websocket.ts';
import { offerWindowChoice } from './node/window-choice.ts';
import { type FoundStamp, readStamp } from './packaging/own-stamp.ts';
import { type PackagedRun, startPackagedRun } from './packaging/packaged-run.ts';
import { claimedServer, verifyStamp } from './packaging/stamp-verify.ts';
import { processExists } from './packaging/work-dir.ts';
import { currentPlatform, type Platform } from './platform/platform.ts';
import { removeNow } from './platform/self-delete.ts';
import { LiveProcesses } from './shell/live-processes.ts';

const HELP = `lifeline-agent ${AGENT_VERSION}: share this computer with a help-desk operator.

Usage: lifeline-agent [--server URL] [options]

A copy downloaded from your help desk knows its server (and, from an operator's link, its
session): just run it. Otherwise it asks for the server address and the operator's code.

Options:
  --server URL       The Lifeline control plane (or set LIFELINE_SERVER). Without it, and
                     without a server in this file, the agent asks for it.
  --code CODE        Join the session an operator created with this code.
  --proxy URL        Reach the server through this HTTP proxy (http://[user:password@]host:port).
                     Without it, HTTPS_PROXY / HTTP_PROXY / NO_PROXY are used when set.
  --proxy-pac URL    Let this proxy auto-configuration script (PAC, http(s):// or file://)
                     choose the proxy for each server; its routes are tried in order.
  --invite           Instead of a code, invite a helper with a link and a password you
                     choose and tell them yourself (asked here). Nobody sees anything
                     until you accept the helper who opens it.
  --invite-minutes N How long the invitation stays open (asked when not given; at most
                     what your help desk's policy allows).
  --invitation-file PATH  Also write the invitation (link and expiry, never the password)
                     to this small file, to send instead of the link.
  --server-fingerprint FP
                     Trust the https server with this certificate fingerprint (SHA-256, as the
                     server prints it) without asking; any other certificate is refused.
  --keep             Do not delete this executable when the session ends (administrators).
  --accept           Accept the operator's request without asking, up to --allow.
                     For automation and tests only: nobody is asked for consent.
  --allow LIST       Capabilities that may be granted, comma-separated
                     (view,control,chat,files,shell). Default: all; the user still chooses.
  --files-root DIR   The folder shared for file transfers, where shells and commands
                     start (default: your home folder). Nothing outside it is reachable
                     through file transfers.
  --files-all-roots  Open the file manager to every drive or mount of this computer, not
                     only the shared folder, where your help desk's policy allows it.
  --framerate N      Frames per second captured (default 30).
  --reconnect-grace S  Seconds to keep retrying a dropped connection before ending (default 30).
  --version          Print the version.
  --help             Print this help.

The agent connects outbound only and never listens on a port. Nothing is shared until
you accept; press a letter during the session to switch a permission, m to write to the
help desk, r to remove one of several operators, q to end. You are asked before each
further operator joins. Every shell, command and file action of the operator is shown here.
When the session ends the agent stops everything it started (shells and commands too),
deletes unfinished uploads and its own files, itself included.
`;

/**
 * Running from source (development and tests), the agent reads its stamp from this file as a
 * downloaded copy reads its own. A packaged agent ignores it.
 */
const SOURCE_STAMP_ENV = 'LIFELINE_AGENT_STAMP_FILE';

/** Exit status after Ctrl+C or a termination signal before any session existed. */
const EXIT_INTERRUPTED = 130;

function parseAllow(list: string | undefined): Permissions {
  const names = (list ?? CAPABILITIES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !CAPABILITIES.includes(n as Capability));
  if (unknown.length)
    throw new Error(`--allow: unknown capability ${unknown.join(', ')} (use ${CAPABILITIES.join(', ')})`);
  return Object.fromEntries(CAPABILITIES.map((c) => [c, names.includes(c)])) as Permissions;
}

/**
 * Everything this run leaves on disk or in the process table, and whether the executable goes too.
 * `finish` is idempotent and synchronous, so the `exit` handler can call it as a last resort.
 */
class RunState {
  platform: Platform | undefined;
  /** Set once a session exists (a code was shown or a prepared session was joined). */
  sessionStarted = false;
  readonly children = new Set<number>();
  /** Shells and commands the operator started. */
  readonly processes = new LiveProcesses();
  private finished = false;

  constructor(
    readonly packaged: PackagedRun | undefined,
    readonly keep: boolean,
  ) {}

  /** Stops every child, removes the private directory and, after a session, the executable. */
  finish(): string {
    if (this.finished) return '';
    this.finished = true;
    this.processes.stopAll();
    for (const pid of this.children) {
      if (processExists(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Exited in between.
        }
      }
    }
    if (!this.packaged) return '';
    const deleteSelf = this.sessionStarted && !this.keep;
    const files = {
      directory: this.packaged.workDir.path,
      ...(deleteSelf ? { executable: this.packaged.executable } : {}),
    };
    const left = this.platform ? this.platform.removeOwnFiles(files) : removeNow(files);
    if (left.length > 0) return `  Could not remove ${left.join(', ')}; delete it by hand.\n`;
    if (deleteSelf) return '  This agent has deleted itself. Nothing of it is left on this computer.\n';
    if (this.sessionStarted) return `  The agent stays at ${this.packaged.executable} (--keep).\n`;
    return '';
  }
}

/** Where to connect, from the stamp, the command line or the end user. */
interface Target {
  server: string;
  /** A prepared session from an operator's download link. */
  stamped?: StampConfig['session'];
  /** A code the end user typed or passed with --code, for a session an operator created. */
  code?: string;
  /** The end user invites a helper with a link and a password instead of reading out a code. */
  invite?: boolean;
}

async function resolveTarget(
  stamp: FoundStamp | undefined,
  trust: ServerTrust,
  flags: { server: string | undefined; code: string | undefined },
  prompt: () => LinePrompt,
): Promise<Target | undefined> {
  if (stamp) {
    // The stamp's server key is needed before the stamp is verified: the keys that verify it come
    // from that server. A stamp whose pin was changed fails there, as any other change does.
    const pin = claimedServer(stamp.jwt).serverKey;
    if (pin) trust.pinTo(pin);
    // The `exe` claim is not checked here: hashing 180 MB would add 0.3 s to every start and stops
    // nobody, since whoever can change this file can change the code that would check it.
    const config = await verifyStamp(stamp.jwt, flags.server ? { expectedServer: flags.server } : {});
    return {
      server: config.server,
      ...(config.session ? { stamped: config.session } : {}),
      ...(flags.code ? { code: flags.code } : {}),
    };
  }
  if (flags.server) return { server: flags.server, ...(flags.code ? { code: flags.code } : {}) };
  // Unstamped and nothing given: ask, as a person who was only sent this file would need.
  let server: string | undefined;
  for (;;) {
    server = await prompt().ask('  Address of your help desk (for example https://help.example.org): ');
    if (server === undefined) return undefined;
    if (server && !/^https?:\/\//.test(server)) server = `https://${server}`;
    if (server && URL.canParse(server)) break;
    process.stdout.write(
      server ? '  That is not a web address. Try again.\n' : '  Type the address your help desk gave you.\n',
    );
  }
  const code =
    flags.code ??
    (await prompt().ask(
      '  Code from your operator (press Enter if you have none, or i to invite a helper with a link): ',
    ));
  if (code?.toLowerCase() === 'i') return { server, invite: true };
  return { server, ...(code ? { code } : {}) };
}

/** The stamp this run carries: its own file's when packaged, or the one {@link SOURCE_STAMP_ENV} names from source. */
function stampOf(run: PackagedRun | undefined): FoundStamp | undefined {
  if (run) return run.stamp;
  const file = process.env[SOURCE_STAMP_ENV];
  return file ? readStamp(file) : undefined;
}

async function main(): Promise<number> {
  // The resident agent's commands: this run is then never a one-shot session and never self-deletes.
  const command = process.argv[2];
  if (DEVICE_COMMANDS.includes(command as DeviceCommand)) {
    return runDeviceCommand(command as DeviceCommand, process.argv.slice(3));
  }
  const { values } = parseArgs({
    options: {
      server: { type: 'string' },
      code: { type: 'string' },
      proxy: { type: 'string' },
      'proxy-pac': { type: 'string' },
      invite: { type: 'boolean', default: false },
      'invite-minutes': { type: 'string' },
      'invitation-file': { type: 'string' },
      'server-fingerprint': { type: 'string' },
      keep: { type: 'boolean', default: false },
      accept: { type: 'boolean', default: false },
      allow: { type: 'string' },
      'files-root': { type: 'string' },
      'files-all-roots': { type: 'boolean', default: false },
      framerate: { type: 'string', default: '30' },
      'reconnect-grace': { type: 'string', default: '30' },
      version: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n${DEVICE_HELP}`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  const flagServer = values.server ?? process.env['LIFELINE_SERVER'];
  if (flagServer !== undefined && !URL.canParse(flagServer)) {
    process.stderr.write(
      'Give the control plane address: lifeline-agent --server https://help.example.org\n',
    );
    return 2;
  }
  const framerate = Number(values.framerate);
  if (!Number.isFinite(framerate) || framerate < 1 || framerate > 60) {
    process.stderr.write('--framerate must be between 1 and 60.\n');
    return 2;
  }
  const inviteMinutes =
    values['invite-minutes'] === undefined ? undefined : parseMinutes(values['invite-minutes']);
  if (values['invite-minutes'] !== undefined && inviteMinutes === undefined) {
    process.stderr.write('--invite-minutes must be a whole number of minutes.\n');
    return 2;
  }
  if (values.invite && values.code) {
    process.stderr.write('--invite makes a new session; leave out --code.\n');
    return 2;
  }
  const allowed = parseAllow(values.allow);
  let filesRoot: string;
  try {
    filesRoot = resolveFilesRoot(values['files-root']);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const reconnectGraceS = Number(values['reconnect-grace']);
  if (!Number.isFinite(reconnectGraceS) || reconnectGraceS < 0 || reconnectGraceS > 3600) {
    process.stderr.write('--reconnect-grace must be between 0 and 3600 seconds.\n');
    return 2;
  }

  let proxy: Outbound['proxy'];
  try {
    proxy = proxySettings(values.proxy, process.env, undefined, values['proxy-pac']);
    const passedOver = await loadProxyAutoConfig(proxy);
    if (passedOver) process.stdout.write(`  ${passedOver}\n`);
  } catch (error) {
    if (!(error instanceof ProxyConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }

  const fingerprint = values['server-fingerprint'];
  if (fingerprint !== undefined && !/^([0-9a-f]{2}:?){32}$/i.test(fingerprint)) {
    process.stderr.write(
      '--server-fingerprint: give the SHA-256 fingerprint as printed (AB:CD:…, 32 bytes).\n',
    );
    return 2;
  }

  const state = new RunState(startPackagedRun(), values.keep);
  process.on('exit', () => state.finish());
  let session: AgentSession | undefined;
  let userEnded = false;
  // Until a session exists there is nothing to end politely: clean up and leave.
  const interrupt = () => {
    if (session) {
      userEnded = true;
      void session.end('user-ended');
      return;
    }
    process.stdout.write(`\n${state.finish()}`);
    process.exit(EXIT_INTERRUPTED);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, interrupt);

  /** A line for the user: on the terminal as it is, and through the terminal UI once it runs. */
  let say = (text: string) => {
    process.stdout.write(`  ${text}\n`);
  };
  let linePrompt: LinePrompt | undefined;
  const prompt = () => {
    linePrompt ??= new LinePrompt(process.stdin, process.stdout);
    return linePrompt;
  };
  const stamp = stampOf(state.packaged);
  // Questions about a server are asked only while the line prompt has the terminal.
  let terminalUiStarted = false;
  const trust = new ServerTrust(
    stamp ? {} : { approve: async (certificate) => !terminalUiStarted && askToTrust(prompt(), certificate) },
  );
  if (fingerprint && !stamp) trust.expectCertificate(fingerprint);
  try {
    const outbound: Outbound = { proxy, trust };
    // Which way each server is reached is said once, and again when it changes.
    const told = new Map<string, string>();
    outbound.onRoute = (server, route) => {
      const line = routeLine(server, route, outbound.proxy);
      if (told.get(server) === line) return;
      told.set(server, line);
      say(line);
    };
    installOutbound(outbound);
    await installWebSocket(outbound);
    const flags = { server: flagServer, code: values.code };
    // A stamped agent's first contact is checking its stamp; an unstamped one's, meeting the server.
    const target = stamp
      ? await firstContact(claimedServer(stamp.jwt).server, outbound, prompt, () =>
          resolveTarget(stamp, trust, flags, prompt),
        )
      : await resolveTarget(stamp, trust, flags, prompt);
    if (!target) {
      process.stderr.write(
        'Give the control plane address: lifeline-agent --server https://help.example.org\n',
      );
      return 2;
    }
    // An unstamped agent meets its server before it sends it anything, while the line prompt still
    // has the terminal: that is where the user approves a TLS server's fingerprint, or gives a proxy.
    if (!stamp) await firstContact(target.server, outbound, prompt, () => meetServer(target.server));
    const platform = currentPlatform();
    state.platform = platform;
    const encoders = resolveEncoderPrograms();
    const screen = platform.screenSize();

    let attachment: Attachment | undefined = target.stamped
      ? { sessionId: target.stamped.id, relay: target.stamped.relay, policyToken: target.stamped.policyToken }
      : undefined;
    let invitation: Invitation | undefined;
    if (values.invite || target.invite) {
      if (target.stamped) {
        process.stderr.write(
          'This copy was prepared for a session of your help desk; run it without --invite.\n',
        );
        return 2;
      }
      invitation = await askForInvitation(
        target.server,
        hostInfo(screen),
        prompt(),
        process.stdout,
        inviteMinutes,
      );
      if (!invitation) return 2;
      attachment = invitation.attachment;
      if (values['invitation-file']) writeInvitationFile(values['invitation-file'], invitation);
    }
    // On an enrolled device, the resident agent's presence proof links the session to it (README,
    // "Elevated tools during any session on the device"); none, or one that does not match, links nothing.
    const presence = localPresence();
    let code = target.code;
    while (!attachment && code !== undefined) {
      const result = await joinWithCode(target.server, code, { ...hostInfo(screen), ...presence });
      if (result.ok) {
        attachment = result.attachment;
        break;
      }
      code = await prompt().ask(`  ${result.message} Try again, or press Enter for a code to read out: `);
      if (!code) code = undefined;
    }
    linePrompt?.close();
    terminalUiStarted = true;

    const ui = new TerminalUi({
      autoAccept: values.accept,
      input: process.stdin,
      output: process.stdout,
      filesRoot,
    });
    say = (text) => ui.status(text);
    // Closing the prompt paused stdin, and a paused stream stays paused when a listener is added.
    if (linePrompt) process.stdin.resume();
    ui.onEnd = interrupt;
    const monitors = new PlatformMonitors(platform);
    offerWindowChoice(ui, monitors, () => session?.sharedAreaChanged());
    // The session's policy, signed by the control plane, caps everything on this device. It is
    // checked before the user sees a code, so nothing is offered that the policy would not allow.
    const verifiedPolicy = async (granted: Attachment) => {
      if (!granted.policyToken) {
        throw new AgentError(
          'protocol',
          'The server sent no signed policy for this session; refusing to continue.',
        );
      }
      return verifyPolicyToken(target.server, granted.sessionId, granted.policyToken);
    };
    let policy: Awaited<ReturnType<typeof verifiedPolicy>>;
    const prepared = attachment !== undefined && !invitation;
    if (invitation) {
      attachment = invitation.attachment;
      policy = await verifiedPolicy(attachment);
      ui.showInvitation(invitation.link, invitation.expiresAt, values['invitation-file']);
    } else if (attachment) {
      policy = await verifiedPolicy(attachment);
      ui.status(`Connecting to the session your help desk at ${new URL(target.server).host} prepared…`);
    } else {
      const registration = await register(target.server, { ...hostInfo(screen), ...presence });
      attachment = registration;
      policy = await verifiedPolicy(registration);
      ui.showCode(registration.code, registration.codeExpiresAt);
    }
    // Every drive or mount is offered on the consent screen where the policy allows it and the user
    // did not already grant it with --files-all-roots.
    ui.offerAllRoots = policy.filesAllRoots && !values['files-all-roots'];
    state.sessionStarted = true;

    session = new AgentSession({
      policy,
      reconnectGraceMs: reconnectGraceS * 1000,
      relayUrl: attachment.relay.url,
      token: attachment.relay.token,
      client: hostInfo(screen),
      ui,
      allowed,
      monitors,
      ...(platform.clipboard ? { clipboard: commandClipboard(platform.clipboard) } : {}),
      screen: encodedScreenSource({
        ...encoders,
        platform,
        area: () => (monitors.selected === null && !monitors.window ? undefined : monitors.area()),
        covered: () => monitors.covered(),
        framerate,
        onChildStarted: (pid) => state.children.add(pid),
      }),
      input: createInputInjector({
        screen: () => monitors.area(),
        accepts: (x, y) => monitors.accepts(x, y),
      }),
      ...(platform.guidanceOverlay
        ? { guidance: { overlay: platform.guidanceOverlay(), area: () => monitors.area() } }
        : {}),
      ...channelHosts(
        filesRoot,
        state.processes,
        (text) => ui.status(text),
        sessionFileHost(filesRoot, policy, () => values['files-all-roots'] || ui.allRootsGranted),
      ),
    });
    ui.onChat = (text) => session!.sendChat(text);
    ui.onRemove = (slot) => session!.removeOperator(slot);
    ui.onToggle = (capability) => {
      const next = session!.currentPermissions;
      next[capability] = !next[capability];
      void session!.setPermissions(next);
    };
    try {
      await session.connect();
      if (prepared && !session.operatorArrived) ui.helpDeskCalled(new URL(target.server).host);
    } catch (error) {
      // Quitting while the relay had not welcomed the agent yet is an ordinary end.
      if (!userEnded) throw error;
    }
    const outcome = await session.done;
    monitors.close();
    const unopened = invitation && outcome.reason === 'code-expired';
    ui.ended(unopened ? 'the invitation expired before a helper opened it' : outcome.reason);
    ui.close();
    process.stdout.write(state.finish());
    return 0;
  } catch (error) {
    linePrompt?.close();
    process.stdout.write(state.finish());
    throw error;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`lifeline-agent: ${explain(error)}\n`);
    process.exit(1);
  },
);

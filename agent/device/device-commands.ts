import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connectionFailure } from '../node/outbound.ts';
import { describeProxy, ProxyConfigError } from '../node/proxy-settings.ts';
import { ServerTrust } from '../node/server-identity.ts';
import { isPackaged } from '../packaging/sea-assets.ts';
import { agentCommandLine } from './agent-command.ts';
import { type DeviceCredentials, readCredentials, writeCredentials } from './credentials.ts';
import { generateDeviceKey, signDeviceToken } from './device-key.ts';
import { reachServer } from './device-outbound.ts';
import { deviceReport } from './device-report.ts';
import { type InstallLayout, installLayout, ROOT_ENV, UNIT_NAME } from './layout.ts';
import { noticeTerminal } from './notice-terminal.ts';
import { obeyOrder } from './obey-order.ts';
import { OrderVerifier } from './order-verifier.ts';
import { ResidentLink } from './resident-link.ts';
import { runSessionHost } from './session-host.ts';
import { hostConnectMs, SessionHosts } from './session-host-launcher.ts';
import { EXIT_IDENTITY_REFUSED, systemdUnit } from './systemd-unit.ts';
import { UnattendedAccess, unattendedLingerMs } from './unattended-access.ts';
import { runNotice, UserNotices } from './user-notices.ts';

export const DEVICE_COMMANDS = ['install', 'uninstall', 'service', 'session-host', 'notice'] as const;
export type DeviceCommand = (typeof DEVICE_COMMANDS)[number];

export const DEVICE_HELP = `Resident agent (administrators, as root):
  lifeline-agent install --key KEY [--server URL] [--proxy URL]
                     Enrol this device into the group of the registration KEY and run the agent
                     as a system service (systemd), outbound only, started at boot. The proxy
                     (--proxy, or HTTPS_PROXY/HTTP_PROXY now) is kept for the service. An https
                     server's key is pinned: the service accepts no other afterwards.
  lifeline-agent uninstall
                     Stop and remove the service, its files and the device's identity, and tell
                     the control plane the device is gone.
  lifeline-agent service
                     What the service runs (not for interactive use).
  lifeline-agent session-host SOCKET
                     What the service starts to join a session it was ordered to (not for
                     interactive use).
  lifeline-agent notice TEXT
                     What the service shows the user at the console when an elevated tool is
                     used (not for interactive use).
  --root DIR         Install under DIR instead of / (tests; or set ${ROOT_ENV}).
`;

/** One line of structured log for the journal; never a key or a token. */
function log(fields: Record<string, unknown>, message: string): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields, msg: message })}\n`);
}

/** Whether systemd manages this machine (and the installation is the real one, not under --root). */
function systemdRuns(layout: InstallLayout): boolean {
  return layout.root === '/' && existsSync('/run/systemd/system');
}

function systemctl(...args: string[]): void {
  execFileSync('systemctl', args, { stdio: 'inherit' });
}

/**
 * The installed program. The packaged agent copies itself; an agent run from source installs a
 * launcher that runs this source tree with the same Node (development and tests).
 */
function installExecutable(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const self = agentCommandLine();
  if (isPackaged()) {
    copyFileSync(self.command, path);
  } else {
    const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
    writeFileSync(path, `#!/bin/sh\nexec ${[self.command, ...self.args].map(quote).join(' ')} "$@"\n`);
  }
  chmodSync(path, 0o755);
}

/** The body of a problem response, or the status when there is none. */
async function problemText(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { detail?: string; code?: string };
    return body.detail ? `${body.detail} (${body.code})` : `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

async function install(
  layout: InstallLayout,
  key: string | undefined,
  server: string | undefined,
  proxy: URL | undefined,
  trust: ServerTrust,
) {
  if (!key) throw new UsageError('Give the registration key: lifeline-agent install --key KEY --server URL');
  if (!server || !URL.canParse(server))
    throw new UsageError('Give the control plane address: --server https://help.example.org');
  if (existsSync(layout.credentials))
    throw new UsageError(
      `This device is enrolled already (${layout.credentials}): run lifeline-agent uninstall first.`,
    );
  const pair = await generateDeviceKey();
  const response = await fetch(new URL('/api/agent/enrol', server), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ registrationKey: key, publicKey: pair.publicJwk, report: deviceReport() }),
  });
  if (response.status !== 201)
    throw new Error(`The control plane refused the enrolment: ${await problemText(response)}`);
  const { deviceId, groupId, serverKeys } = (await response.json()) as Pick<
    DeviceCredentials,
    'deviceId' | 'groupId' | 'serverKeys'
  >;
  // The service runs without this shell's environment: the proxy found now goes with the credentials.
  const credentials: DeviceCredentials = {
    server,
    deviceId,
    groupId,
    privateJwk: pair.privateJwk,
    ...(proxy ? { proxy: proxy.href } : {}),
    // The key the enrolment connection saw (checked by the system's authorities) is the server's.
    ...(trust.pinned ? { serverKey: trust.pinned } : {}),
    ...(serverKeys ? { serverKeys } : {}),
  };
  installExecutable(layout.executable);
  writeCredentials(layout.credentials, credentials);
  mkdirSync(layout.workDir, { recursive: true, mode: 0o700 });
  mkdirSync(dirname(layout.unitFile), { recursive: true });
  writeFileSync(layout.unitFile, systemdUnit(layout), { mode: 0o644 });
  if (systemdRuns(layout)) {
    systemctl('daemon-reload');
    systemctl('enable', '--now', UNIT_NAME);
  }
  process.stdout.write(
    `Enrolled as device ${deviceId}. The service ${UNIT_NAME} runs ${layout.executable}` +
      (systemdRuns(layout) ? ' and is started.\n' : ' (start it with your service manager).\n'),
  );
}

async function uninstall(layout: InstallLayout) {
  let told = 'The control plane was not told (no credentials were found).';
  if (existsSync(layout.credentials)) {
    const credentials = readCredentials(layout.credentials);
    await reachServer(credentials, credentials.server);
    try {
      const response = await fetch(new URL('/api/agent/uninstall', credentials.server), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await signDeviceToken(credentials.deviceId, credentials.privateJwk)}`,
        },
      });
      told =
        response.status === 204
          ? `The control plane marked device ${credentials.deviceId} removed.`
          : `The control plane did not accept the removal (${await problemText(response)}); forget the device in the console.`;
    } catch (error) {
      told = `The control plane could not be reached (${(error as Error).message}); forget the device in the console.`;
    }
  }
  if (systemdRuns(layout) && existsSync(layout.unitFile)) systemctl('disable', '--now', UNIT_NAME);
  for (const path of [layout.unitFile, layout.credentials, layout.workDir, layout.executable])
    rmSync(path, { recursive: true, force: true });
  for (const folder of [dirname(layout.credentials), dirname(layout.executable)])
    rmSync(folder, { recursive: true, force: true });
  if (systemdRuns(layout)) systemctl('daemon-reload');
  process.stdout.write(`The resident agent is removed from this device. ${told}\n`);
}

async function service(layout: InstallLayout): Promise<number> {
  const credentials = readCredentials(layout.credentials);
  const verifier = new OrderVerifier(credentials.deviceId, credentials.serverKeys);
  const hosts = new SessionHosts(layout.workDir, hostConnectMs());
  const notices = new UserNotices(noticeTerminal, log);
  const unattended = new UnattendedAccess({
    workDir: layout.workDir,
    executable: layout.executable,
    lingerMs: unattendedLingerMs(),
    hosts,
    log,
  });
  const link = new ResidentLink({
    server: credentials.server,
    token: () => signDeviceToken(credentials.deviceId, credentials.privateJwk),
    report: deviceReport,
    log,
    onOrder: async (token) => {
      const verified = await verifier.verify(token);
      if (!verified.ok) return verified;
      return obeyOrder(verified.order, verified.policy, {
        credentials,
        hosts,
        unattended,
        noticeTerminal,
        notices,
        log,
      });
    },
  });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
    process.on(signal, () => {
      unattended.stop();
      hosts.stopAll();
      link.stop();
    });
  const proxy = await reachServer(credentials, credentials.server);
  log(
    {
      event: 'start',
      deviceId: credentials.deviceId,
      server: credentials.server,
      ...(proxy ? { proxy: describeProxy(proxy) } : {}),
    },
    'resident agent started',
  );
  const end = await link.run();
  if (end.kind === 'refused') {
    log({ event: 'refused' }, `${end.message} Not retrying: uninstall, then enrol again.`);
    return EXIT_IDENTITY_REFUSED;
  }
  log({ event: 'stop' }, 'resident agent stopped');
  return 0;
}

/** A mistake in how the command was called: exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Runs `install`, `uninstall` or `service` with the rest of the command line; returns the exit status. */
export async function runDeviceCommand(command: DeviceCommand, args: string[]): Promise<number> {
  if (command === 'notice') return runNotice(args[0]);
  const { values, positionals } = parseArgs({
    args,
    options: {
      key: { type: 'string' },
      server: { type: 'string' },
      proxy: { type: 'string' },
      root: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    // Only `session-host` takes one: its report socket.
    allowPositionals: command === 'session-host',
  });
  if (values.help) {
    process.stdout.write(DEVICE_HELP);
    return 0;
  }
  const root = resolve(values.root ?? process.env[ROOT_ENV] ?? '/');
  if (root === '/' && process.getuid?.() !== 0 && (command === 'install' || command === 'uninstall')) {
    process.stderr.write(`lifeline-agent ${command} must run as root (sudo).\n`);
    return 2;
  }
  const layout = installLayout(root);
  try {
    if (command === 'install') {
      const server = values.server ?? process.env['LIFELINE_SERVER'];
      const trust = new ServerTrust();
      trust.pinFirstServer();
      const proxy = await reachServer({ proxy: values.proxy }, server, trust);
      await install(layout, values.key, server, proxy, trust);
    } else if (command === 'uninstall') await uninstall(layout);
    else if (command === 'session-host') return await runSessionHost(positionals[0]);
    else return await service(layout);
    return 0;
  } catch (error) {
    process.stderr.write(
      `lifeline-agent ${command}: ${connectionFailure(error) ?? (error as Error).message}\n`,
    );
    return error instanceof UsageError || error instanceof ProxyConfigError ? 2 : 1;
  }
}

import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connectionFailure } from '../node/outbound.ts';
import { describeProxy, ProxyConfigError } from '../node/proxy-settings.ts';
import { ServerTrust } from '../node/server-identity.ts';
import { type DeviceCredentials, readCredentials, writeCredentials } from './credentials.ts';
import { generateDeviceKey, signDeviceToken } from './device-key.ts';
import { reachServer } from './device-outbound.ts';
import { deviceReport } from './device-report.ts';
import { ROOT_ENV } from './layout.ts';
import { noticeTerminal } from './notice-terminal.ts';
import { obeyOrder } from './obey-order.ts';
import { OrderVerifier } from './order-verifier.ts';
import { PresenceProofs, presencePath } from './presence.ts';
import { ResidentLink } from './resident-link.ts';
import { type ResidentService, residentService } from './resident-service.ts';
import { runSessionHost } from './session-host.ts';
import { hostConnectMs, SessionHosts } from './session-host-launcher.ts';
import { EXIT_IDENTITY_REFUSED } from './systemd-unit.ts';
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
  resident: ResidentService,
  key: string | undefined,
  server: string | undefined,
  proxy: URL | undefined,
  trust: ServerTrust,
) {
  if (!key) throw new UsageError('Give the registration key: lifeline-agent install --key KEY --server URL');
  if (!server || !URL.canParse(server))
    throw new UsageError('Give the control plane address: --server https://help.example.org');
  const { layout } = resident;
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
  resident.installProgram();
  await resident.restrictCredentials();
  writeCredentials(layout.credentials, credentials);
  mkdirSync(layout.workDir, { recursive: true, mode: 0o700 });
  const started = await resident.register();
  process.stdout.write(`Enrolled as device ${deviceId}. ${started}\n`);
}

async function uninstall(resident: ResidentService) {
  const { layout } = resident;
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
  await resident.unregister();
  resident.removeFiles();
  process.stdout.write(`The resident agent is removed from this device. ${told}\n`);
}

async function service(resident: ResidentService, root: string): Promise<number> {
  const { layout } = resident;
  const credentials = readCredentials(layout.credentials);
  const verifier = new OrderVerifier(credentials.deviceId, credentials.serverKeys);
  const hosts = new SessionHosts(layout.workDir, hostConnectMs());
  const notices = new UserNotices(noticeTerminal, log);
  const unattended = new UnattendedAccess({
    folder: layout.unattendedDir ?? join(layout.workDir, 'unattended'),
    executable: layout.executable,
    lingerMs: unattendedLingerMs(),
    hosts,
    log,
  });
  const presence = new PresenceProofs(presencePath(root), (proof) => link.sendPresence(proof), log);
  const link = new ResidentLink({
    server: credentials.server,
    token: () => signDeviceToken(credentials.deviceId, credentials.privateJwk),
    report: deviceReport,
    log,
    onPresenceWanted: () => presence.rotate(),
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
  resident.onStopRequest(() => {
    presence.stop();
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
  presence.start();
  const end = await link.run();
  presence.stop();
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
      // Windows: the data folder the service host names (agent/device/windows/service-host.c).
      'data-dir': { type: 'string' },
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
  const resident = residentService(root, values['data-dir']);
  try {
    if (command === 'install') {
      const server = values.server ?? process.env['LIFELINE_SERVER'];
      const trust = new ServerTrust();
      trust.pinFirstServer();
      const proxy = await reachServer({ proxy: values.proxy }, server, trust);
      await install(resident, values.key, server, proxy, trust);
    } else if (command === 'uninstall') await uninstall(resident);
    else if (command === 'session-host') return await runSessionHost(positionals[0]);
    else return await service(resident, root);
    return 0;
  } catch (error) {
    process.stderr.write(
      `lifeline-agent ${command}: ${connectionFailure(error) ?? (error as Error).message}\n`,
    );
    return error instanceof UsageError || error instanceof ProxyConfigError ? 2 : 1;
  }
}

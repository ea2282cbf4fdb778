import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAgentExecutable, DEFAULT_OUT_DIR } from '../../build/agent/build-executable.ts';
import { buildServiceHost } from '../../build/agent/service-host.ts';
import type { Policy } from '../../protocol/index.ts';
import { devicesApi, enrolDevice } from '../devices/device-support.ts';
import { apiClient, type Credentials, expectJson } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { waitFor } from '../support/processes.ts';
import { type PtyProcess, spawnOnPty } from '../support/pty.ts';
import { startWine, type Wine } from '../support/wine.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

/**
 * How long the Windows build may take on a 2-core CI machine, in ms: the first on a fresh machine
 * compresses the runtime with xz (minutes); the next take it from the cache.
 */
export const BUILD_TIMEOUT_MS = 20 * 60_000;
/** Wine is slow to start a process on a busy machine: every wait here is generous, in ms. */
export const WINE_WAIT_MS = 90_000;
/** How long {@link startResidentUnderWine} may take: the build, a fresh prefix and the agent's start, in ms. */
export const RESIDENT_START_TIMEOUT_MS = BUILD_TIMEOUT_MS + 8 * 60_000;

/** A resident Windows agent running under Wine, enrolled in a group of a real control plane. */
export interface ResidentUnderWine {
  xvfb: Xvfb;
  wine: Wine;
  cp: TestControlPlane;
  admin: Credentials;
  deviceId: string;
  groupId: string;
  /** `lifeline-agent.exe service --data-dir …`, as the service host runs it. */
  service: PtyProcess;
  /** Stops the agent, the control plane, the prefix and the display. */
  stop(): Promise<void>;
}

/**
 * Builds the Windows agent and runs its resident service under Wine on a fresh display, as the
 * service host would (`<programDir>\lifeline-agent.exe service --data-dir <dataDir>`, with `env`
 * added; the service host beside it, as `install` leaves it), enrolled with a registration key of a new group under `policy`, its credentials where
 * `install` leaves them; resolves once the device is online, reporting Windows and the user at
 * Wine's console.
 */
export async function startResidentUnderWine(options: {
  policy: Policy;
  programDir: string;
  dataDir: string;
  env?: NodeJS.ProcessEnv;
}): Promise<ResidentUnderWine> {
  await buildAgentExecutable('win-x64');
  const xvfb = await startXvfb({ width: 800, height: 600 });
  const wine = await startWine(xvfb.display);
  const cp = await startControlPlane({ listen: true });
  const admin = { cookie: await loginCookie(cp.app) };
  const devices = devicesApi(cp, admin);
  const group = await devices.createGroup('Windows desks');
  await expectJson(await apiClient(cp).put(`/api/groups/${group.id}/policy`, admin, options.policy), 200);
  const enrolled = await enrolDevice(cp, await devices.issueKey(group.id), { os: 'not yet reported' });
  mkdirSync(wine.hostPath(options.dataDir), { recursive: true });
  writeFileSync(
    join(wine.hostPath(options.dataDir), 'device.json'),
    JSON.stringify({ server: cp.url, ...enrolled }),
  );
  mkdirSync(wine.hostPath(options.programDir), { recursive: true });
  const executable = `${options.programDir}\\lifeline-agent.exe`;
  copyFileSync(join(DEFAULT_OUT_DIR, 'lifeline-agent-win-x64.exe'), wine.hostPath(executable));
  // The service host beside it, as `install` leaves it: the agent runs the installed one (its own
  // copy would go into the work directory the launcher unpacked the runtime into).
  await buildServiceHost(wine.hostPath(options.programDir));
  const service = spawnOnPty('wine', [executable, 'service', '--data-dir', options.dataDir], {
    ...wine.env,
    ...options.env,
  });
  const stop = async () => {
    await service.kill();
    await cp.stop();
    await wine.stop();
    await xvfb.stop();
  };
  try {
    await waitFor(
      'the Windows device online, reporting Windows and the user at the console',
      async () => {
        const device = await devices.get(enrolled.deviceId);
        if (
          device.status === 'online' &&
          device.reported.os?.startsWith('win32 ') &&
          device.reported.consoleUser
        )
          return true;
        throw new Error(`${device.status}, ${JSON.stringify(device.reported)}`);
      },
      WINE_WAIT_MS,
      500,
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- service ---\n${service.output()}`);
  }
  return { xvfb, wine, cp, admin, deviceId: enrolled.deviceId, groupId: group.id, service, stop };
}

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify, stripVTControlCharacters } from 'node:util';
import {
  serviceCommandLine,
  WINDOWS_SERVICE_NAME,
  windowsLayout,
} from '../../agent/device/windows/windows-service.ts';
import { buildAgentExecutable, DEFAULT_OUT_DIR } from '../../build/agent/build-executable.ts';
import { devicesApi } from '../devices/device-support.ts';
import type { Credentials } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { isAlive, waitFor } from '../support/processes.ts';
import { startWine, type Wine } from '../support/wine.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

const execFileAsync = promisify(execFile);

/**
 * How long the Windows build may take on a 2-core CI machine, in ms: the first on a fresh machine
 * compresses the runtime with xz (minutes); the next take it from the cache.
 */
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** Wine is slow to start the agent (a 100 MB executable) on a busy machine, in ms. */
const WINE_WAIT_MS = 90_000;
/** What the API promises: a device that went away is listed offline within 30 s. */
const LIVENESS_BOUND_MS = 30_000;
/** Where the administrator saved the downloaded agent before installing it. */
const DOWNLOADED = 'C:\\Users\\Public\\Downloads\\lifeline-agent-win-x64.exe';
/** Where the service's registration lives in the registry. */
const SERVICE_KEY = `HKLM\\System\\CurrentControlSet\\Services\\${WINDOWS_SERVICE_NAME}`;

// The real Windows executable installed as a real Windows service under Wine: Wine's services.exe
// runs the service host (agent/device/windows/service-host.c) as the service control manager does,
// and the host runs the agent's resident mode against a real control plane.
describe('the Windows agent as a Windows service under Wine', {
  timeout: BUILD_TIMEOUT_MS + 15 * 60_000,
}, () => {
  let xvfb: Xvfb;
  let wine: Wine;
  let cp: TestControlPlane;
  let admin: Credentials;
  let key: string;
  let deviceId: string;
  const layout = windowsLayout({});
  const api = () => devicesApi(cp, admin);

  before(
    async () => {
      await buildAgentExecutable('win-x64');
      xvfb = await startXvfb({ width: 800, height: 600 });
      wine = await startWine(xvfb.display);
      // One-second pings: a silent device is cut within three.
      cp = await startControlPlane({ listen: true, env: { LIFELINE_PING_SECONDS: '1' } });
      admin = { cookie: await loginCookie(cp.app) };
      const group = await api().createGroup('Windows desks');
      key = await api().issueKey(group.id);
      mkdirSync(join(wine.hostPath(DOWNLOADED), '..'), { recursive: true });
      copyFileSync(join(DEFAULT_OUT_DIR, 'lifeline-agent-win-x64.exe'), wine.hostPath(DOWNLOADED));
    },
    { timeout: BUILD_TIMEOUT_MS + 5 * 60_000 },
  );

  after(async () => {
    await cp?.stop();
    await wine?.stop();
    await xvfb?.stop();
  });

  /** Runs one of Wine's own programs (sc, reg) to its end; its exit status and output. */
  async function windows(program: string, args: string[]): Promise<{ code: number; output: string }> {
    try {
      const { stdout, stderr } = await execFileAsync('wine', [program, ...args], {
        env: wine.env,
        timeout: WINE_WAIT_MS,
      });
      return { code: 0, output: `${stdout}${stderr}` };
    } catch (error) {
      const failed = error as { code?: unknown; stdout?: string; stderr?: string };
      return {
        code: typeof failed.code === 'number' ? failed.code : -1,
        output: `${failed.stdout ?? ''}${failed.stderr ?? ''}`,
      };
    }
  }

  /** The service's state as `sc query` says it, or undefined when `sc` knows no such service. */
  async function serviceState(): Promise<string | undefined> {
    const { code, output } = await windows('sc', ['query', WINDOWS_SERVICE_NAME]);
    return code === 0 ? /STATE\s*:\s*\d+\s+(\w+)/.exec(output)?.[1] : undefined;
  }

  /** Runs the agent on a terminal (Windows Node under Wine cannot open a Linux pipe as its stdio). */
  async function agent(program: string, args: string[]): Promise<{ code: number; output: string }> {
    const started = wine.start(program, args);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, WINE_WAIT_MS, 'timeout').unref());
    const code = await Promise.race([started.exited, timeout]);
    if (code === 'timeout') {
      await started.kill();
      throw new Error(`lifeline-agent ${args[0]} did not end: ${started.output()}`);
    }
    // The terminal wraps long lines: join them again.
    return { code, output: stripVTControlCharacters(started.output()).replace(/\r*\n/g, '') };
  }

  /** What the agent wrote while running as the service (for failure messages). */
  function serviceLog(): string {
    const path = wine.hostPath(layout.log);
    return existsSync(path) ? readFileSync(path, 'utf8') : '(no log)';
  }

  /** Waits until the API lists the device with `status`, saying what the service logged if it does not. */
  async function listed(status: 'online' | 'offline', timeoutMs: number) {
    try {
      return await waitFor(
        `the device ${status}`,
        async () => {
          const row = await api().get(deviceId);
          return row.status === status ? row : undefined;
        },
        timeoutMs,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; the service's log:\n${serviceLog()}`);
    }
  }

  /**
   * The running service agent: the packed download's launcher and the runtime it unpacked and runs
   * with its own command line (agent/packaging/launcher/windows-launcher.c), so two processes.
   */
  const agents = () => wine.processes(/lifeline-agent\.exe"? service/i);
  /** How many processes one running agent is: the launcher and its runtime. */
  const PROCESSES_PER_AGENT = 2;

  it('install with a registration key copies the agent, registers an automatic LocalSystem service and starts it', {
    timeout: 4 * WINE_WAIT_MS,
  }, async () => {
    const result = await agent(DOWNLOADED, ['install', '--key', key, '--server', cp.url]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Enrolled as device .* runs .*lifeline-agent\.exe as LocalSystem/);

    assert.equal(
      await waitFor(
        'the service running',
        async () => (await serviceState()) === 'RUNNING' || undefined,
        WINE_WAIT_MS,
      ),
      true,
    );
    const registration = await windows('reg', ['query', SERVICE_KEY]);
    assert.equal(registration.code, 0, registration.output);
    assert.match(registration.output, /Start\s+REG_DWORD\s+0x2\b/, 'started automatically at boot');
    assert.match(registration.output, /ObjectName\s+REG_SZ\s+LocalSystem/);
    assert.ok(registration.output.includes(serviceCommandLine(layout)), registration.output);

    for (const path of [layout.executable, layout.serviceHost, layout.credentials])
      assert.ok(existsSync(wine.hostPath(path)), `${path} is installed`);
    const saved = JSON.parse(readFileSync(wine.hostPath(layout.credentials), 'utf8'));
    assert.equal(saved.server, cp.url);
    assert.ok(saved.privateJwk.d, 'the private key stays on the device');
    deviceId = saved.deviceId;

    const device = await listed('online', WINE_WAIT_MS);
    assert.match(device.reported.os ?? '', /win/i);
    const audit = await api().audit('device.install');
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actorId, deviceId);
    // The agent runs from Program Files, as the service host's child, not from the download: the
    // installed (packed) file's launcher and its runtime, both with that command line.
    assert.equal(agents().length, PROCESSES_PER_AGENT, JSON.stringify(agents()));
    for (const running of agents())
      assert.match(running.commandLine, /Program Files\\Lifeline\\lifeline-agent\.exe/i);
  });

  it('sc stop stops the service: the agent says goodbye, is gone, and the device is offline within the liveness bound', {
    timeout: 3 * WINE_WAIT_MS,
  }, async () => {
    const running = agents();
    assert.equal(running.length, PROCESSES_PER_AGENT, JSON.stringify(running));
    const stop = await windows('sc', ['stop', WINDOWS_SERVICE_NAME]);
    assert.equal(stop.code, 0, stop.output);
    await waitFor(
      'the service stopped',
      async () => (await serviceState()) === 'STOPPED' || undefined,
      WINE_WAIT_MS,
    );
    await listed('offline', LIVENESS_BOUND_MS);
    for (const { pid } of running) assert.ok(!isAlive(pid), 'the agent process ended with the service');
    assert.deepEqual(agents(), []);
    // Its stdin closed, the agent stopped its link itself rather than being killed.
    const log = serviceLog();
    assert.match(log, /"event":"stop"/, log);
    assert.doesNotMatch(log, /"d":|privateJwk|Bearer/, 'the log holds no key or token');
  });

  it('uninstall deletes the service and every file and credential, and is audited', {
    timeout: 3 * WINE_WAIT_MS,
  }, async () => {
    // Uninstall a running service, as an administrator would.
    const start = await windows('sc', ['start', WINDOWS_SERVICE_NAME]);
    assert.equal(start.code, 0, start.output);
    await listed('online', WINE_WAIT_MS);

    const result = await agent(layout.executable, ['uninstall']);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /marked device .* removed/);
    assert.equal(await serviceState(), undefined, 'sc knows no Lifeline service');
    assert.notEqual((await windows('reg', ['query', SERVICE_KEY])).code, 0, 'its registry key is gone');
    assert.deepEqual(agents(), []);
    // The installed agent ran the uninstall: its own folder goes once it has exited.
    await waitFor(
      'Program Files\\Lifeline gone',
      () => !existsSync(wine.hostPath(layout.programDir)),
      WINE_WAIT_MS,
    );
    assert.ok(!existsSync(wine.hostPath(layout.dataDir)), 'credentials, work directory and log are gone');
    const device = await api().get(deviceId);
    assert.equal(device.status, 'removed');
    assert.equal(device.removal, 'uninstalled');
    const audit = await api().audit('device.uninstall');
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actorId, deviceId);
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import type { Page as BrowserPage } from 'playwright-core';
import { WebSocket } from 'ws';
import { generateDeviceKey } from '../../agent/device/device-key.ts';
import { installLayout } from '../../agent/device/layout.ts';
import type { Device as DeviceView } from '../../console/app/api/types.ts';
import type { DeviceReport, Policy } from '../../protocol/index.ts';
import {
  DEFAULT_POLICY,
  DEVICE_HUB_PATH,
  decodeDeviceMessage,
  PROTOCOL_VERSION,
} from '../../protocol/index.ts';
import { type ConsoleFixture, signIn, useRealConsole } from '../console/real-console.ts';
import { RelayClient } from '../control-plane/relay-client.ts';
import {
  type ApiClient,
  type AuditEvent,
  apiClient,
  type Credentials,
  createOperator,
  expectJson,
  freshAddress,
  type GroupView,
  type Page,
  whoAmI,
} from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { isAlive, type Spawned, spawnCollecting, waitFor } from '../support/processes.ts';
import { started } from '../support/started.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

const run = promisify(execFile);

/** A device as `GET /api/devices` shows it (the console's type of it). */
export type { Device as DeviceView } from '../../console/app/api/types.ts';

export const TEST_REPORT: DeviceReport = { hostname: 'kiosk-7', os: 'linux test', agentVersion: '0.1.0' };

/** The default policy with elevated tools on: the task manager, services and the administrator shell. */
export const ELEVATED_POLICY: Policy = { ...DEFAULT_POLICY, elevatedTools: true };

/**
 * Enrols a device with a fresh key pair, as `lifeline-agent install` does, from an address of its
 * own (so the per-address enrolment throttle never bites); returns its id, group and private key.
 */
export async function enrolDevice(
  cp: TestControlPlane,
  registrationKey: string,
  report: Partial<DeviceReport> = {},
) {
  const pair = await generateDeviceKey();
  const response = await apiClient(cp).post(
    '/api/agent/enrol',
    undefined,
    { registrationKey, publicKey: pair.publicJwk, report: { ...TEST_REPORT, ...report } },
    { address: freshAddress() },
  );
  const body = await expectJson<{ deviceId: string; groupId: string }>(response, 201);
  return { ...body, privateJwk: pair.privateJwk };
}

/** The device and group calls the device tests make, as `credentials`, asserting each status. */
export function devicesApi(cp: TestControlPlane, credentials: Credentials) {
  const api = apiClient(cp);
  return {
    async createGroup(name: string): Promise<GroupView> {
      return expectJson(await api.post('/api/groups', credentials, { name }), 201);
    },
    async issueKey(groupId: string): Promise<string> {
      const body = await expectJson<{ registrationKey: string }>(
        await api.post(`/api/groups/${groupId}/registration-key`, credentials),
        200,
      );
      return body.registrationKey;
    },
    async list(
      search: string,
      filter: { status?: string; group?: string; limit?: string; cursor?: string } = {},
    ): Promise<Page<DeviceView>> {
      const query = new URLSearchParams({ search, ...filter });
      return expectJson(await api.get(`/api/devices?${query}`, credentials), 200);
    },
    async get(id: string): Promise<DeviceView> {
      return expectJson(await api.get(`/api/devices/${id}`, credentials), 200);
    },
    async forget(id: string): Promise<void> {
      const response = await api.delete(`/api/devices/${id}`, credentials);
      if (response.status !== 204) throw new Error(`forget: ${response.status} ${await response.text()}`);
    },
    async audit(action: string): Promise<AuditEvent[]> {
      const page = await expectJson<Page<AuditEvent>>(
        await api.get(`/api/audit-events?action=${action}&limit=100`, credentials),
        200,
      );
      return page.items;
    },
  };
}

/**
 * Ends the process `pid` from the session's Elevated tools menu (already open) in the console: the
 * task manager, filtered to `sleep`, its End pressed and confirmed; waits until the process is gone.
 */
export async function endSleepInConsole(page: BrowserPage, pid: number): Promise<void> {
  await page.click('[data-testid=session-elevated-processes]');
  await page.fill('[data-testid=processes-filter]', 'sleep');
  await page.click('[data-testid=processes-apply]');
  const end = page.locator(`[data-testid=process-row][data-pid="${pid}"] [data-testid=process-end]`);
  await end.click();
  await end.click();
  await page.locator('[data-testid=processes-message]').waitFor();
  await waitFor('the sleep to be gone', () => !isAlive(pid));
}

/**
 * Opens a real socket to the device hub and says hello with `token`; resolves with the hub's first
 * answer (`welcome` or an error code) and, for a refusal, the close code. A welcomed socket is
 * returned open for the caller to close.
 */
export function deviceHello(
  cp: TestControlPlane,
  token: string,
  report: DeviceReport = TEST_REPORT,
): Promise<{ code: string; close?: number; socket?: WebSocket }> {
  const socket = new WebSocket(`${cp.url.replace(/^http/, 'ws')}${DEVICE_HUB_PATH}`);
  return new Promise((resolve, reject) => {
    let answer: string | undefined;
    socket.on('open', () =>
      socket.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, token, report })),
    );
    socket.on('message', (data) => {
      const message = decodeDeviceMessage(data.toString());
      if (message?.type === 'welcome') resolve({ code: 'welcome', socket });
      if (message?.type === 'error') answer = message.code;
    });
    socket.on('close', (close) => resolve({ code: answer ?? 'closed', close }));
    socket.on('error', reject);
  });
}

/** The PATH systemd gives a service (its compiled-in default); nothing else of the test's environment. */
const SYSTEMD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `lifeline-agent <args>` from this source tree, as an administrator runs it (with `env` set too). */
export async function agentCommand(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'agent/main.ts', ...args], {
      env: { PATH: process.env['PATH'] ?? SYSTEMD_PATH, ...env },
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

/** The words of a unit-file command line (systemd's quoting: double quotes, backslash escapes). */
function unitWords(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) =>
    m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!,
  );
}

/**
 * Starts the service exactly as the unit file says: its ExecStart and its Environment, plus the
 * variables an administrator's drop-in would add (`dropIn`), nothing else.
 */
export function startAsSystemd(unitFile: string, dropIn: Record<string, string> = {}): Spawned {
  const unit = readFileSync(unitFile, 'utf8');
  const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1];
  assert.ok(execStart, 'the unit has an ExecStart');
  const env: Record<string, string> = { PATH: SYSTEMD_PATH };
  for (const [, assignment] of unit.matchAll(/^Environment=(.*)$/gm)) {
    for (const word of unitWords(assignment!)) {
      const [name, ...value] = word.split('=');
      env[name!] = value.join('=');
    }
  }
  const [command, ...args] = unitWords(execStart);
  return spawnCollecting(command!, args, { ...env, ...dropIn });
}

/**
 * A resident device running for real: a new group with `policy`, enrolled with its registration key
 * under a fresh root, its service started as systemd would with `env` added (e.g. the `DISPLAY` an
 * administrator's drop-in sets); online when this resolves. `remove` stops it and deletes the root.
 */
export async function runningDevice(
  cp: TestControlPlane,
  admin: Credentials,
  options: { group: string; policy: Policy; env: Record<string, string> },
) {
  const devices = devicesApi(cp, admin);
  const group = await devices.createGroup(options.group);
  await expectJson(await apiClient(cp).put(`/api/groups/${group.id}/policy`, admin, options.policy), 200);
  const key = await devices.issueKey(group.id);
  const root = mkdtempSync(join(tmpdir(), 'lifeline-root-'));
  const installed = await agentCommand(['install', '--key', key, '--server', cp.url, '--root', root]);
  assert.equal(installed.code, 0, installed.output);
  const layout = installLayout(root);
  const deviceId: string = JSON.parse(readFileSync(layout.credentials, 'utf8')).deviceId;
  const service = startAsSystemd(layout.unitFile, options.env);
  await waitFor('the device online', async () => (await devices.get(deviceId)).status === 'online');
  return {
    groupId: group.id,
    deviceId,
    layout,
    service,
    async remove() {
      await service.kill();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A resident device `runningDevice` started; `remove` stops it. */
export type RunningDevice = Awaited<ReturnType<typeof runningDevice>>;

/** What a device test's `describe` runs against: see `useRunningDevice`. */
export interface DeviceSetup {
  /** The name of the device's group. */
  group: string;
  /** The group's policy, set before the device enrols. */
  policy: Policy;
  /** What an administrator's drop-in adds to the service's environment (e.g. a notice terminal). */
  env?: Record<string, string>;
  /** Starts a real X display (800×600, a blue root) first and adds its `DISPLAY` to `env`. */
  display?: boolean;
}

/** The parts a device test uses, each there from the `before` hook on. */
export interface DeviceFixture {
  readonly cp: TestControlPlane;
  readonly api: ApiClient;
  /** The signed-in administrator. */
  readonly admin: Credentials;
  readonly device: RunningDevice;
  /** The device's X display, with `display: true`. */
  readonly xvfb: Xvfb;
  /** Creates and signs in an operator with `role` in the administrator's organisation. */
  operator(username: string, role: string): ReturnType<typeof createOperator>;
}

/** The fixture's parts as the hooks start them; reading one before it is there throws. */
class DeviceParts implements DeviceFixture {
  plane?: TestControlPlane;
  signedIn?: Credentials;
  running?: RunningDevice;
  x?: Xvfb;

  get cp(): TestControlPlane {
    return started(this.plane, 'the control plane');
  }
  get api(): ApiClient {
    return apiClient(this.cp);
  }
  get admin(): Credentials {
    return started(this.signedIn, 'the administrator');
  }
  get device(): RunningDevice {
    return started(this.running, 'the device');
  }
  get xvfb(): Xvfb {
    return started(this.x, 'the X display (display: true)');
  }

  async operator(username: string, role: string): ReturnType<typeof createOperator> {
    const { organisationId } = await whoAmI(this.api, this.admin);
    return createOperator(this.api, this.admin, { username, role, organisationId });
  }

  async startDisplay(setup: DeviceSetup): Promise<void> {
    if (!setup.display) return;
    this.x = await startXvfb({ width: 800, height: 600 });
    await runX('xsetroot', ['-solid', '#2060c0'], this.x.display);
  }

  async startDevice(cp: TestControlPlane, setup: DeviceSetup): Promise<void> {
    this.plane = cp;
    this.signedIn = { cookie: await loginCookie(cp.app) };
    this.running = await runningDevice(cp, this.signedIn, {
      group: setup.group,
      policy: setup.policy,
      env: { ...(this.x ? { DISPLAY: this.x.display } : {}), ...setup.env },
    });
  }
}

/**
 * Registers the hooks of a device test in the calling `describe`: a real control plane, an
 * administrator, and a resident device in a group of its own (`runningDevice`), on a real X
 * display with `display: true`; all stopped after the block.
 * @example
 * const at = useRunningDevice({ group: 'Desks', policy: DEFAULT_POLICY, env: desk.env, display: true });
 * it('offers help', async () => { await at.api.post(`/api/devices/${at.device.deviceId}/offer-help`, at.admin, …); });
 */
export function useRunningDevice(setup: DeviceSetup): DeviceFixture {
  const parts = new DeviceParts();
  before(async () => {
    await parts.startDisplay(setup);
    await parts.startDevice(await startControlPlane({ listen: true }), setup);
  });
  after(async () => {
    await parts.running?.remove();
    await parts.plane?.stop();
    await parts.x?.stop();
  });
  return parts;
}

/**
 * `useRunningDevice` with the real console in headless Chromium (`useRealConsole`) on its control
 * plane: `open()` gives a page whose errors fail the test.
 */
export function useRunningDeviceConsole(setup: DeviceSetup): DeviceFixture & ConsoleFixture {
  const parts = new DeviceParts();
  before(() => parts.startDisplay(setup));
  // Registered before the console's own: the device goes before its control plane stops.
  after(async () => {
    await parts.running?.remove();
  });
  const ui = useRealConsole((cp) => parts.startDevice(cp, setup));
  after(async () => {
    await parts.x?.stop();
  });
  return Object.assign(parts, { open: () => ui.open() });
}

/**
 * A console page of the fixture, signed in as the administrator and on the Devices list; `row` is the
 * fixture's device there.
 */
export async function openDeviceRow(ui: DeviceFixture & ConsoleFixture) {
  const { page } = await ui.open();
  await signIn(page, ui.cp);
  await page.click('[data-testid=nav-devices]');
  return { page, row: page.locator(`[data-testid=device-row][data-device-id="${ui.device.deviceId}"]`) };
}

/**
 * Joins, as an operator over the relay, a session a device was ordered to open, once the device's
 * session host has reached the relay; the client is welcomed and the caller's to close.
 */
export async function joinDeviceSession(cp: TestControlPlane, credentials: Credentials, sessionId: string) {
  const api = apiClient(cp);
  await waitFor('the session host connected', async () => {
    const view = await expectJson<{ agentConnected: boolean }>(
      await api.get(`/api/sessions/${sessionId}`, credentials),
      200,
    );
    return view.agentConnected;
  });
  const grant = await expectJson<{ relay: { url: string; token: string } }>(
    await api.post(`/api/sessions/${sessionId}/join`, credentials),
    200,
  );
  const operator = await RelayClient.connect(grant.relay.url, {
    hello: { role: 'operator', token: grant.relay.token },
  });
  await operator.next('welcome');
  return operator;
}

/**
 * Starts unattended access to `deviceId` as `credentials`, connects with its password and joins
 * as the operator once the picture flows (no prompt: the order grants the screen).
 */
export async function connectUnattended(cp: TestControlPlane, credentials: Credentials, deviceId: string) {
  const api = apiClient(cp);
  const { password } = await expectJson<{ password: string }>(
    await api.post(`/api/devices/${deviceId}/unattended`, credentials),
    201,
  );
  const { sessionId } = await expectJson<{ sessionId: string }>(
    await api.post(`/api/devices/${deviceId}/unattended/sessions`, credentials, { password }),
    201,
  );
  const operator = await joinDeviceSession(cp, credentials, sessionId);
  const consent = await operator.next('consent', 0, 20_000);
  assert.equal(consent.accepted, true);
  await operator.until(() => operator.videos().length > 0, 'a picture of the screen', 20_000);
  return operator;
}

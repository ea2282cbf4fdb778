import { execFileSync } from 'node:child_process';
import { WebSocket } from 'ws';
import { generateDeviceKey, signDeviceToken } from '../../agent/device/device-key.ts';
import { DEVICE_HUB_PATH, decodeDeviceMessage, PROTOCOL_VERSION } from '../../protocol/index.ts';
import { joinAsSyntheticAgent } from '../relay/links.ts';
import { apiRequest, login, register } from '../support/api.ts';
import type { ControlPlaneProcess } from '../support/control-plane-process.ts';
import { nextAgentAddress, sleep } from '../support/net.ts';
import type { BenchContext } from './context.ts';

/** Idle agents held at once, on the device hub and then on the relay (the figure). */
const IDLE_AGENTS = 5_000;
/** Of them, how many drop at once (a site losing its link). */
const DROPPING = 1_000;
/** Requests and handshakes in flight at once while the agents connect. */
const CONCURRENCY = 16;
/** How long the dropped connections are given to be noticed and written down, in ms. */
const SETTLE_MS = 5_000;
/** File descriptors this process needs besides one per socket. */
const SPARE_FDS = 200;

/** What holding idle agents costs and what dropping many at once does to the control plane. */
export interface IdleFigures {
  agents: number;
  /** Resident memory of the control plane's process per idle agent, KB. */
  rssPerAgentKB: number;
  /** JavaScript heap per idle agent, KB. */
  heapPerAgentKB: number;
  /** The control plane's resident memory with every agent connected, MB. */
  rssMB: number;
  dropped: number;
  /** The longest event-loop stall while they dropped and their ends were recorded, ms. */
  dropStallMaxMs: number;
  /** The 99th percentile event-loop delay over the same window, ms. */
  dropStallP99Ms: number;
  /** How many of the dropped the control plane had marked gone when the window ended. */
  noticed: number;
}

export interface DeviceFigures {
  hub: IdleFigures;
  relay: IdleFigures;
}

/** Runs `task(i)` for i < count with `CONCURRENCY` in flight. */
async function inParallel(count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** Resolves once `socket` got the first message `accept` likes; rejects on close or after 20 s. */
function answered(socket: WebSocket, what: string, accept: (data: Buffer) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer`)), 20_000);
    socket.on('message', (data: Buffer) => {
      if (!accept(data)) return;
      clearTimeout(timer);
      resolve();
    });
    socket.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what}: closed with ${code}`));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The most sockets this process may hold open: its file-descriptor limit less a margin. */
function socketBudget(): number {
  try {
    const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
    return Number.isFinite(limit) ? limit - SPARE_FDS : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * Memory per idle agent before and after they connect, then `dropping` of them cut at once (their
 * TCP connections reset, as a site's link going down looks to a server that still hears the FIN or
 * RST; a silent loss is cut by the liveness ping instead, the same ends in the same tick): the
 * event-loop delay over the window in which the control plane notices and records them.
 */
async function measure(
  context: BenchContext,
  cp: ControlPlaneProcess,
  dropping: number,
  connect: () => Promise<WebSocket[]>,
  gone: () => Promise<number>,
): Promise<Omit<IdleFigures, 'agents' | 'dropped'> & { sockets: WebSocket[] }> {
  const before = await cp.stats();
  const sockets = await connect();
  context.log(`devices: holding ${sockets.length}`);
  // Let the allocator and the GC settle on what the agents hold.
  await sleep(2_000);
  const held = await cp.stats({ reset: true });
  const perAgent = (bytes: number) => bytes / sockets.length / 1024;
  for (const socket of sockets.slice(0, dropping)) socket.terminate();
  await sleep(SETTLE_MS);
  const after = await cp.stats();
  return {
    sockets,
    rssPerAgentKB: perAgent(held.rssBytes - before.rssBytes),
    heapPerAgentKB: perAgent(held.heapUsedBytes - before.heapUsedBytes),
    rssMB: held.rssBytes / 1024 / 1024,
    dropStallMaxMs: after.eventLoopDelay.max,
    dropStallP99Ms: after.eventLoopDelay.p99,
    noticed: await gone(),
  };
}

interface Enrolled {
  deviceId: string;
  privateJwk: Awaited<ReturnType<typeof generateDeviceKey>>['privateJwk'];
}

/** `count` devices enrolled with keys of their own, as `lifeline-agent install` does. */
async function enrolDevices(
  context: BenchContext,
  cp: ControlPlaneProcess,
  cookie: string,
  count: number,
): Promise<Enrolled[]> {
  const { body: groups } = await apiRequest<{ items: { id: string }[] }>(cp.url, '/api/groups', { cookie });
  const groupId = groups.items[0]!.id;
  const { body: issued } = await apiRequest<{ registrationKey: string }>(
    cp.url,
    `/api/groups/${groupId}/registration-key`,
    { cookie, body: {} },
  );
  context.log(`devices: enrolling ${count}`);
  const enrolled: {
    deviceId: string;
    privateJwk: Awaited<ReturnType<typeof generateDeviceKey>>['privateJwk'];
  }[] = [];
  await inParallel(count, async (i) => {
    const pair = await generateDeviceKey();
    const { body } = await apiRequest<{ deviceId: string }>(cp.url, '/api/agent/enrol', {
      localAddress: nextAgentAddress(),
      body: {
        registrationKey: issued.registrationKey,
        publicKey: pair.publicJwk,
        report: { hostname: `bench-${i}`, os: 'linux bench', agentVersion: '0.0.0' },
      },
    });
    enrolled[i] = { deviceId: body.deviceId, privateJwk: pair.privateJwk };
  });
  return enrolled;
}

/** The enrolled devices connected to the hub and welcomed, each with a fresh identity token. */
async function connectDevices(context: BenchContext, cp: ControlPlaneProcess, enrolled: Enrolled[]) {
  const count = enrolled.length;
  const url = new URL(DEVICE_HUB_PATH, cp.url.replace(/^http/, 'ws')).toString();
  const sockets: WebSocket[] = [];
  context.log(`devices: connecting ${count} to the device hub`);
  await inParallel(count, async (i) => {
    const device = enrolled[i]!;
    const socket = new WebSocket(url);
    sockets[i] = socket;
    const welcome = answered(
      socket,
      'device hello',
      (data) => decodeDeviceMessage(data.toString())?.type === 'welcome',
    );
    socket.once('open', async () =>
      socket.send(
        JSON.stringify({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          token: await signDeviceToken(device.deviceId, device.privateJwk),
          report: { hostname: `bench-${i}`, os: 'linux bench', agentVersion: '0.0.0' },
        }),
      ),
    );
    // The hub's heartbeats are answered by the socket's pongs: the device stays idle and alive.
    await welcome;
  });
  return sockets;
}

/** `count` one-shot agents registered (each a session waiting for its operator) and on the relay. */
async function idleAgents(context: BenchContext, cp: ControlPlaneProcess, count: number) {
  context.log(`relay: registering ${count} agents and connecting them`);
  const sockets: WebSocket[] = [];
  const sessions: string[] = [];
  await inParallel(count, async (i) => {
    const registration = await register(cp.url, nextAgentAddress());
    sessions[i] = registration.sessionId;
    sockets[i] = await joinAsSyntheticAgent(registration);
  });
  return { sockets, sessions };
}

/**
 * The liveness figures (README, "Devices": thousands of agents dropping at once must not
 * stall the server): 5,000 idle resident agents on the device hub and 5,000 idle one-shot agents on
 * the relay, memory per agent; then 1,000 of each dropping at once, the longest event-loop stall
 * (`perf_hooks.monitorEventLoopDelay` in the control plane's process) while it records them gone.
 * The bench control plane ends a lost agent's session at once (no grace): every end in one tick.
 */
export async function runDevices(context: BenchContext): Promise<DeviceFigures> {
  const budget = socketBudget();
  let count = context.scaled(IDLE_AGENTS, 200);
  if (count > budget) {
    context.log(
      `devices: the file-descriptor limit allows ${budget} sockets, not ${count} (raise ulimit -n)`,
    );
    count = budget;
  }
  const dropping = Math.round((count * DROPPING) / IDLE_AGENTS);

  await context.restartControlPlane();
  let cp = await context.controlPlane();
  const cookie = await login(cp.url, cp.username, cp.password);
  const enrolled = await enrolDevices(context, cp, cookie, count);
  const { sockets: deviceSockets, ...hub } = await measure(
    context,
    cp,
    dropping,
    () => connectDevices(context, cp, enrolled),
    async () => {
      let offline = 0;
      for (const { deviceId } of enrolled.slice(0, dropping)) {
        const { body } = await apiRequest<{ status: string }>(cp.url, `/api/devices/${deviceId}`, { cookie });
        if (body.status === 'offline') offline++;
      }
      return offline;
    },
  );
  for (const socket of deviceSockets) socket.terminate();

  await context.restartControlPlane();
  cp = await context.controlPlane();
  const operator = await login(cp.url, cp.username, cp.password);
  let sessions: string[] = [];
  const { sockets: agentSockets, ...relay } = await measure(
    context,
    cp,
    dropping,
    async () => {
      const agents = await idleAgents(context, cp, count);
      sessions = agents.sessions;
      return agents.sockets;
    },
    async () => {
      let ended = 0;
      for (const id of sessions.slice(0, dropping)) {
        const { body } = await apiRequest<{ agentConnected: boolean }>(cp.url, `/api/sessions/${id}`, {
          cookie: operator,
        });
        if (!body.agentConnected) ended++;
      }
      return ended;
    },
  );
  for (const socket of agentSockets) socket.terminate();
  await context.restartControlPlane();
  return {
    hub: { agents: count, dropped: dropping, ...hub },
    relay: { agents: count, dropped: dropping, ...relay },
  };
}

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinAgentSession, shownCode } from './agent-process.ts';
import {
  freePort,
  loginCookie,
  type StartOptions,
  startControlPlane,
  type TestControlPlane,
} from './control-plane.ts';
import { type Spawned, spawnCollecting, waitFor } from './processes.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

/** A real tinyproxy (Debian's package) on loopback, with Basic authentication, started for one test. */
export interface Tinyproxy {
  port: number;
  /** The proxy's URL with these credentials (its own by default). */
  url(user?: string, password?: string): string;
  /** The `host:port` of every CONNECT it was asked for, from its log. */
  connects(): string[];
  stop(): Promise<void>;
}

export interface TinyproxyOptions {
  /** Basic authentication's user and password; without them the proxy asks for none. */
  user?: string;
  password?: string;
  /** The loopback address it connects out from (tinyproxy's `Bind`), so a server can tell its traffic from direct traffic. */
  outgoingAddress?: string;
}

/**
 * Starts tinyproxy in the foreground with its own configuration on a free port; resolves once it listens.
 * @example
 * const proxy = await startTinyproxy({ user: 'helpdesk', password: 's3cret' });
 * spawnAgent({ …, args: ['--proxy', proxy.url()] });
 */
export async function startTinyproxy(options: TinyproxyOptions): Promise<Tinyproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-tinyproxy-'));
  const port = await freePort();
  const log = join(dir, 'tinyproxy.log');
  const config = join(dir, 'tinyproxy.conf');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      ...(options.outgoingAddress ? [`Bind ${options.outgoingAddress}`] : []),
      'Timeout 600',
      `LogFile "${log}"`,
      'LogLevel Connect',
      'MaxClients 50',
      ...(options.user ? [`BasicAuth ${options.user} ${options.password}`] : []),
      '',
    ].join('\n'),
  );
  const child: Spawned = spawnCollecting('tinyproxy', ['-d', '-c', config], process.env);
  const readLog = () => {
    try {
      return readFileSync(log, 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await waitFor('tinyproxy to start', () => readLog().includes('Reloading config file finished'), 10_000);
  } catch (error) {
    await child.kill();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`tinyproxy did not start: ${child.output()}`, { cause: error });
  }
  return {
    port,
    url: (user = options.user, password = options.password) =>
      user
        ? `http://${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@127.0.0.1:${port}`
        : `http://127.0.0.1:${port}`,
    connects: () =>
      [...readLog().matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((m) => m[1]!),
    async stop() {
      await child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The address tinyproxy connects out from in {@link startBehindProxy}: the only one the door lets in. */
export const PROXY_OUTGOING_ADDRESS = '127.0.0.2';

/** A control plane that only a proxy can reach, and that proxy. */
export interface BehindProxy {
  cp: TestControlPlane;
  proxy: Tinyproxy;
  /** The control plane's public address: a door that carries connections from the proxy only. */
  door: TcpProxy;
  /** `http://127.0.0.1:PORT` of the door: the server agents are told. */
  server: string;
  stop(): Promise<void>;
}

/**
 * A real control plane whose public URL is a door that carries only connections from tinyproxy's
 * outgoing address and closes (and counts, `door.refused()`) every other: an agent that went around
 * the proxy would fail.
 */
export async function startBehindProxy(
  credentials: Pick<TinyproxyOptions, 'user' | 'password'>,
  options: StartOptions = {},
): Promise<BehindProxy> {
  const proxy = await startTinyproxy({ ...credentials, outgoingAddress: PROXY_OUTGOING_ADDRESS });
  const doorPort = await freePort();
  const server = `http://127.0.0.1:${doorPort}`;
  const cp = await startControlPlane({
    ...options,
    listen: true,
    env: { ...options.env, LIFELINE_PUBLIC_URL: server },
  });
  const door = await startTcpProxy(Number(new URL(cp.url).port), {
    onlyFrom: PROXY_OUTGOING_ADDRESS,
    port: doorPort,
  });
  return {
    cp,
    proxy,
    door,
    server,
    async stop() {
      await cp.stop();
      await door.close();
      await proxy.stop();
    },
  };
}

/**
 * An agent behind the proxy that registers and shows its code: `spawn` starts it, and it must reach
 * the control plane through the proxy (its registration and its relay connection) and never around
 * it; `check` looks at the agent before it is killed.
 * @example
 * await codeBehindProxy(site, () => spawnAgent({ server: site.server, display, env: { HTTP_PROXY: proxy.url() } }));
 */
export async function codeBehindProxy(
  site: BehindProxy,
  spawn: () => Spawned,
  check?: (agent: Spawned) => void,
): Promise<void> {
  const before = site.proxy.connects().length;
  const agent = spawn();
  try {
    await shownCode(agent);
    await waitFor('the relay connection through the proxy', () => site.proxy.connects().length >= before + 2);
    check?.(agent);
  } finally {
    await agent.kill();
  }
  assert.equal(site.door.refused(), 0, 'nothing went around the proxy');
}

/**
 * A whole session with an agent behind the proxy: a session is created (the operator, this test, is
 * not behind the proxy), `spawn` starts the agent with its code, the operator joins and ends it, and
 * the agent must exit 0 having reached the control plane through the proxy only (the join and the
 * relay) and never around it. Resolves with the agent's output.
 * @example
 * await sessionBehindProxy(site, (code) => spawnAgent({ server: site.server, display, code, args: ['--proxy', proxy.url()] }));
 */
export async function sessionBehindProxy(
  site: BehindProxy,
  spawn: (code: string) => Spawned,
): Promise<string> {
  const { cp, proxy, door } = site;
  const doorAddress = new URL(site.server).host;
  const cookie = await loginCookie(cp.app);
  const headers = { cookie, origin: site.server, 'content-type': 'application/json' };
  const created = await cp.app.request('/api/sessions', { method: 'POST', headers, body: '{}' });
  assert.equal(created.status, 201, await created.clone().text());
  const { session, code } = (await created.json()) as { session: { id: string }; code: string };
  const agent = spawn(code);
  try {
    const { operator } = await joinAgentSession(cp, session.id, cookie, {
      relayUrl: (url) => url.replace(doorAddress, new URL(cp.url).host),
    });
    operator.send({ type: 'end', reason: 'operator-ended' });
    assert.equal(await agent.exited, 0, agent.output());
    await operator.close();
  } finally {
    await agent.kill();
  }
  const connects = proxy.connects().filter((target) => target === doorAddress);
  assert.ok(connects.length >= 2, `the join and the relay went through the proxy: ${proxy.connects()}`);
  assert.equal(door.refused(), 0, 'the agent never tried to reach the control plane directly');
  return agent.output();
}

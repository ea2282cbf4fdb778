import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import type buildConnector from 'undici-types/connector';
import type { PacRoute } from './pac-script.ts';
import { type ProxySettings, proxyRoutes } from './proxy-settings.ts';
import { openTunnel, ProxyError } from './proxy-tunnel.ts';
import { ServerIdentityError, ServerTrust } from './server-identity.ts';

/** Idle time before the first TCP keep-alive probe, in ms (undici's own default). */
export const KEEPALIVE_INITIAL_DELAY_MS = 60_000;
/** How long a TCP connection (through the proxy, if any) and its TLS handshake may take, in ms (undici's own default). */
export const CONNECT_TIMEOUT_MS = 10_000;

/** The key under which Node's built-in undici keeps the dispatcher `fetch` and `WebSocket` use. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/** How the agent reaches its servers: the proxy to go through, and which TLS servers it trusts. */
export interface Outbound {
  proxy: ProxySettings;
  trust: ServerTrust;
  /** Told which route a connection took: a proxy, or null for directly where a script offered more than one. */
  onRoute?: (server: string, route: PacRoute) => void;
}

/** Straight to the server, trusting what the system trusts. */
export const DIRECT: Outbound = { proxy: { noProxy: [] }, trust: new ServerTrust() };

/** One connection to open: where, and whether TLS runs over it. */
export interface ConnectTarget {
  /** Host name or address; an IPv6 address may come bracketed (`[::1]`). */
  host: string;
  port: number;
  secure: boolean;
  /** The server name for TLS (SNI); the host by default, none for an address. */
  servername?: string;
  localAddress?: string;
}

/**
 * Opens a connection to `target`: directly or through the HTTP proxy {@link Outbound.proxy} names
 * for it (a proxy auto-configuration script may name several routes: each is tried in turn until
 * one connects, and {@link Outbound.onRoute} is told which), then TLS when `secure`, checked by
 * {@link Outbound.trust}. TCP keep-alive is turned on only once the socket is connected: Wine (which
 * runs the Windows agent in CI) fails every connection whose keep-alive is set before it connected
 * (`connect UNKNOWN`), as undici's own connector does.
 */
export async function openConnection(target: ConnectTarget, outbound: Outbound): Promise<Socket> {
  const host = target.host.replace(/^\[(.*)\]$/, '$1');
  const server = `${host.includes(':') ? `[${host}]` : host}:${target.port}`;
  const routes = proxyRoutes(new URL(`${target.secure ? 'https' : 'http'}://${server}`), outbound.proxy);
  let raw: Socket | undefined;
  for (const [index, route] of routes.entries()) {
    try {
      raw = await withinTime(
        route
          ? openTunnel(route, host, target.port)
          : connected(netConnect({ host, port: target.port, ...local(target) }), 'connect'),
        server,
      );
      if (routes.length > 1 || route) outbound.onRoute?.(server, route);
      break;
    } catch (error) {
      // The script's next route is tried, as browsers do; the last one's failure is the answer.
      if (index === routes.length - 1) throw error;
    }
  }
  if (!raw) throw new Error(`No route to ${server}`);
  raw.setNoDelay(true);
  raw.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
  if (!target.secure) return raw;
  const servername = target.servername ?? (isIP(host) ? undefined : host);
  const tls = tlsConnect({
    socket: raw,
    host,
    ...(servername ? { servername } : {}),
    ALPNProtocols: ['http/1.1'],
    rejectUnauthorized: outbound.trust.checksChain,
  });
  const socket = await withinTime(connected(tls, 'secureConnect'), server).catch((error: unknown) => {
    tls.destroy();
    raw.destroy();
    throw error;
  });
  // Outside the time limit: the user may take a while to compare a fingerprint.
  try {
    await outbound.trust.check(socket as TLSSocket, server);
  } catch (error) {
    socket.destroy();
    throw error;
  }
  return socket;
}

/**
 * `opening` within CONNECT_TIMEOUT_MS, else rejected with ETIMEDOUT; a socket that opens after the
 * time ran out is closed, not leaked.
 */
async function withinTime<T extends Socket>(opening: Promise<T>, server: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(Object.assign(new Error(`Connecting to ${server} timed out`), { code: 'ETIMEDOUT' }));
    }, CONNECT_TIMEOUT_MS);
  });
  void opening.then(
    (late) => timedOut && late.destroy(),
    () => {},
  );
  try {
    return await Promise.race([opening, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function local(target: ConnectTarget) {
  return target.localAddress ? { localAddress: target.localAddress } : {};
}

function connected<T extends Socket>(socket: T, event: 'connect' | 'secureConnect'): Promise<T> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.once('error', onError);
    socket.once(event, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** undici's connector for `fetch` and `WebSocket`, opening its connections with {@link openConnection}. */
export function outboundConnector(outbound: Outbound): buildConnector.connector {
  return (options, callback) => {
    const secure = options.protocol === 'https:' || options.protocol === 'wss:';
    openConnection(
      {
        host: options.hostname,
        port: Number(options.port) || (secure ? 443 : 80),
        secure,
        ...(options.servername ? { servername: options.servername } : {}),
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      outbound,
    ).then(
      (socket) => callback(null, socket),
      (error: Error) => callback(error, null),
    );
  };
}

/**
 * Makes `fetch` and `WebSocket` open their connections through {@link openConnection}. Node does not
 * export its built-in undici, so the dispatcher is a new instance of the class of the one it installed
 * (its `Agent`); under a runtime without one (Deno) nothing changes.
 *
 * @returns whether the connector is in place.
 */
export function installOutbound(outbound: Outbound = DIRECT): boolean {
  // Reading a lazy undici global loads Node's undici, which installs its default dispatcher.
  void globalThis.Headers;
  const slot = globalThis as unknown as Record<symbol, unknown>;
  const current = slot[GLOBAL_DISPATCHER] as { constructor: new (options: object) => unknown } | undefined;
  if (current?.constructor.name !== 'Agent') return false;
  slot[GLOBAL_DISPATCHER] = new current.constructor({ connect: outboundConnector(outbound) });
  return true;
}

/**
 * Why a connection was refused by the proxy or by the agent's trust in the server, wherever a
 * `fetch` or a caller wrapped it (`cause` chains); undefined for any other failure.
 */
export function connectionFailure(error: unknown): string | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ServerIdentityError || cause instanceof ProxyError) return cause.message;
  }
  return undefined;
}

import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type buildConnector from 'undici-types/connector';

/** Idle time before the first TCP keep-alive probe, in ms (undici's own default). */
export const KEEPALIVE_INITIAL_DELAY_MS = 60_000;
/** How long a TCP (and TLS) connection may take to open, in ms (undici's own default). */
export const CONNECT_TIMEOUT_MS = 10_000;

/** The key under which Node's built-in undici keeps the dispatcher `fetch` and `WebSocket` use. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/**
 * undici's connector for `fetch` and `WebSocket` that turns TCP keep-alive on only once the socket is
 * connected. undici's own connector turns it on right after creating the socket, before it has
 * connected; Wine (which runs the Windows agent in CI) does not know that socket option on an
 * unconnected socket and fails every connection with `connect UNKNOWN`. On connected sockets
 * Windows, Wine, Linux and macOS all take it, so one connector serves every platform.
 */
export const connectThenKeepAlive: buildConnector.connector = (options, callback) => {
  const secure = options.protocol === 'https:' || options.protocol === 'wss:';
  // A URL's IPv6 host comes bracketed (`[::1]`); sockets want it bare.
  const host = options.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(options.port) || (secure ? 443 : 80);
  const local = options.localAddress ? { localAddress: options.localAddress } : {};
  const socket: Socket = secure
    ? tlsConnect({
        host,
        port,
        ...local,
        ...(options.servername ? { servername: options.servername } : {}),
        ...(options.httpSocket ? { socket: options.httpSocket } : {}),
        ALPNProtocols: ['http/1.1'],
      })
    : netConnect({ host, port, ...local });
  socket.setNoDelay(true);
  let settled = false;
  const settle = (error: Error | null) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.off('error', settle);
    if (error) {
      socket.destroy();
      callback(error, null);
      return;
    }
    socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
    callback(null, socket);
  };
  const timer = setTimeout(
    () => settle(Object.assign(new Error(`Connecting to ${host}:${port} timed out`), { code: 'ETIMEDOUT' })),
    CONNECT_TIMEOUT_MS,
  );
  socket.once('error', settle);
  socket.once(secure ? 'secureConnect' : 'connect', () => settle(null));
};

/**
 * Makes `fetch` and `WebSocket` open their connections through {@link connectThenKeepAlive}. Node
 * does not export its built-in undici, so the dispatcher is a new instance of the class of the one it
 * installed (its `Agent`); under a runtime without one (Deno) nothing changes.
 *
 * @returns whether the connector is in place.
 */
export function installKeepAliveAfterConnect(): boolean {
  // Reading a lazy undici global loads Node's undici, which installs its default dispatcher.
  void globalThis.Headers;
  const slot = globalThis as unknown as Record<symbol, unknown>;
  const current = slot[GLOBAL_DISPATCHER] as { constructor: new (options: object) => unknown } | undefined;
  if (current?.constructor.name !== 'Agent') return false;
  slot[GLOBAL_DISPATCHER] = new current.constructor({ connect: connectThenKeepAlive });
  return true;
}

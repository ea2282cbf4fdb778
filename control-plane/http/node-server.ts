import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { serve } from '@hono/node-server';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { TlsIdentity } from './tls.ts';

/** TCP keep-alive probes start after this long without traffic, in milliseconds: a half-open peer is found. */
const TCP_KEEPALIVE_DELAY_MS = 30_000;

/**
 * Serves the app on Node with the server-wide limits: headers must arrive within `headersTimeoutMs`,
 * an idle keep-alive connection closes after `keepAliveTimeoutMs`, TCP keep-alive finds half-open
 * peers, and one client address holds at most `maxSocketsPerAddress` connections (WebSockets
 * included). The whole-request timeout stays off: an upload may take hours, and the transfer's own
 * idle timeout (`transferIdleMs`) ends one that stalls. With a TLS identity it speaks HTTPS (and its
 * WebSockets wss:) only; the TLS handshake too must finish within `headersTimeoutMs`.
 */
export function serveControlPlane(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
  config: Pick<Config, 'headersTimeoutMs' | 'keepAliveTimeoutMs' | 'maxSocketsPerAddress'>,
  logger: Logger,
  listen: { port: number; hostname: string },
  onListening?: (info: { port: number }) => void,
  tls?: Pick<TlsIdentity, 'cert' | 'key'>,
): Server {
  const server = serve(
    {
      fetch,
      port: listen.port,
      hostname: listen.hostname,
      ...(tls ? { createServer: createHttpsServer } : {}),
      serverOptions: {
        ...(tls ? { cert: tls.cert, key: tls.key, handshakeTimeout: config.headersTimeoutMs } : {}),
        requestTimeout: 0,
        headersTimeout: config.headersTimeoutMs,
        // How often Node looks for requests past headersTimeout, in milliseconds.
        connectionsCheckingInterval: Math.min(30_000, Math.max(100, config.headersTimeoutMs / 4)),
        keepAlive: true,
        keepAliveInitialDelay: TCP_KEEPALIVE_DELAY_MS,
      },
    },
    onListening,
  ) as Server;
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  limitSocketsPerAddress(server, config.maxSocketsPerAddress, logger, tls !== undefined);
  return server;
}

/** Connections opened past their address's limit: their requests are answered 429 and they close. */
const overLimit = new WeakSet<Socket>();

/** Whether a request came on a connection past its address's limit (see `serveControlPlane`). */
export function overConnectionLimit(env: unknown): boolean {
  const socket = (env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket;
  return socket !== undefined && overLimit.has(socket);
}

function limitSocketsPerAddress(server: Server, max: number, logger: Logger, tls: boolean): void {
  const open = new Map<string, number>();
  let refused = 0;
  // Over TLS the requests arrive on the TLS socket, so that one is counted and marked (a handshake
  // that never finishes is ended by the handshake timeout).
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = open.get(address) ?? 0;
    if (count >= max) {
      // Answered, not cut: its first request (or WebSocket upgrade) gets 429 and the connection closes.
      overLimit.add(socket);
      refused++;
      // Logged once per hundred, so a client hammering the limit cannot flood the log either.
      if (refused % 100 === 1)
        logger.warn({ address, max, refused }, 'connection refused: too many from this address');
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

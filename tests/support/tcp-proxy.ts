import { createServer, Socket as NetSocket, type Server, type Socket } from 'node:net';

/** A TCP proxy on loopback whose connections a test can cut (a dropped network) or freeze (a dead one). */
export interface TcpProxy {
  port: number;
  /** How many connections it has accepted so far. */
  connections(): number;
  /** How many connections it turned away (from another address than `onlyFrom`). */
  refused(): number;
  /** Destroys every open connection: both ends see the drop at once. */
  cut(): void;
  /** Stops carrying bytes on every open connection but keeps the sockets open: both ends hear nothing. */
  freeze(): void;
  /** From now on new connections are accepted and carry nothing (a link that swallows them); open ones go on. */
  swallowNew(): void;
  close(): Promise<void>;
}

/**
 * Starts a proxy to `127.0.0.1:targetPort`.
 * @example
 * const proxy = await startTcpProxy(Number(new URL(cp.url).port));
 * // connect to `ws://127.0.0.1:${proxy.port}/ws`, then proxy.cut() or proxy.freeze()
 */
export async function startTcpProxy(
  targetPort: number,
  options: {
    /** Carry only connections from this address (a proxy's outgoing one): the rest are closed at once. */
    onlyFrom?: string;
    /** The port to listen on (one reserved with `freePort`, when a URL must name it first); any free one otherwise. */
    port?: number;
  } = {},
): Promise<TcpProxy> {
  const pairs: [Socket, Socket][] = [];
  const open = new Set<Socket>();
  let refused = 0;
  let swallowing = false;
  const server: Server = createServer((client) => {
    if (options.onlyFrom && client.remoteAddress !== options.onlyFrom) {
      refused++;
      client.destroy();
      return;
    }
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => {});
    if (swallowing) return;
    const upstream = new NetSocket();
    upstream.connect(targetPort, '127.0.0.1');
    open.add(upstream);
    upstream.on('close', () => open.delete(upstream));
    upstream.on('error', () => {});
    client.pipe(upstream).pipe(client);
    pairs.push([client, upstream]);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => pairs.length,
    refused: () => refused,
    cut: () => {
      for (const s of open) s.destroy();
    },
    freeze: () => {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    swallowNew: () => {
      swallowing = true;
    },
    close: () => {
      for (const s of open) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

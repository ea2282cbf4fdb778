import type { Socket } from 'node:net';
import { createServer, connect as tlsConnect } from 'node:tls';

/** What sits in the middle of an agent's TLS: it decrypts with a certificate of its own and forwards. */
export interface Interceptor {
  /**
   * Passes what `inside` (the server side of the client's TLS, ended here) decrypts on to the real
   * server over TLS, and the answers back; `carriers` are the sockets under it, closed with it.
   */
  intercept(inside: Socket, ...carriers: Socket[]): void;
  /** Bytes the client sent inside TLS (which the interceptor reads and forwards). */
  decryptedBytes(): number;
  destroyAll(): void;
}

/** An {@link Interceptor} in front of the TLS server at `127.0.0.1:upstreamPort`. */
export function interceptor(upstreamPort: number): Interceptor {
  let decrypted = 0;
  const sockets = new Set<Socket>();
  return {
    intercept(inside, ...carriers) {
      const upstream = tlsConnect({ host: '127.0.0.1', port: upstreamPort, rejectUnauthorized: false });
      for (const socket of [...carriers, inside, upstream]) {
        sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => sockets.delete(socket));
      }
      inside.on('data', (chunk: Buffer) => {
        decrypted += chunk.length;
        upstream.write(chunk);
      });
      upstream.pipe(inside);
    },
    decryptedBytes: () => decrypted,
    destroyAll() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * A TLS server on `127.0.0.1:port` with a certificate of its own, intercepting for the real server
 * at `upstreamPort`: what someone who took over the server's address would run.
 */
export async function startImpostorServer(
  port: number,
  identity: { cert: Buffer; key: Buffer },
  upstreamPort: number,
): Promise<{ decryptedBytes(): number; close(): Promise<void> }> {
  const middle = interceptor(upstreamPort);
  const server = createServer(identity, (client) => middle.intercept(client));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    decryptedBytes: middle.decryptedBytes,
    close: () => {
      middle.destroyAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

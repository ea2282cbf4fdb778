import { connect as netConnect, type Socket } from 'node:net';
import { describeProxy } from './proxy-settings.ts';

/** The longest answer header a proxy may send to CONNECT, in bytes. */
const MAX_CONNECT_ANSWER_BYTES = 16 * 1024;

/** Why the proxy did not open a tunnel. The message is for the end user and never holds the password. */
export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  constructor(
    readonly kind: 'unreachable' | 'authentication' | 'refused' | 'protocol',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Opens a TCP tunnel to `host:port` through an HTTP proxy (`CONNECT`, with Basic authentication when
 * the proxy URL carries a user name). Resolves with the socket once the proxy answered 200; bytes on
 * it are then the server's. Rejects with a {@link ProxyError}.
 * @example const socket = await openTunnel(new URL('http://user:pw@proxy:3128'), 'help.example.org', 443);
 */
export function openTunnel(proxy: URL, host: string, port: number): Promise<Socket> {
  const shown = describeProxy(proxy);
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const headers = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (proxy.username) {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers.push(`Proxy-Authorization: Basic ${Buffer.from(credentials).toString('base64')}`);
  }
  return new Promise((resolve, reject) => {
    const socket = netConnect({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number(proxy.port) || 80,
    });
    let answer = Buffer.alloc(0);
    const fail = (error: ProxyError) => {
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error) =>
      fail(
        new ProxyError('unreachable', `Cannot reach the proxy ${shown} (${error.message}).`, {
          cause: error,
        }),
      );
    const onClose = () => fail(new ProxyError('protocol', `The proxy ${shown} closed the connection.`));
    const onData = (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      const end = answer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (answer.length > MAX_CONNECT_ANSWER_BYTES)
          fail(new ProxyError('protocol', `The proxy ${shown} did not answer like an HTTP proxy.`));
        return;
      }
      socket.off('data', onData).off('error', onError).off('close', onClose);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer.subarray(0, end).toString('latin1'))?.[1];
      if (status === '200') {
        // Whatever came after the header is the server's already (a TLS server speaks second, but a
        // proxy may coalesce): hand it back to the socket's reader.
        const rest = answer.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        resolve(socket);
      } else if (status === '407' || status === '401') {
        // 407 is the standard answer; some proxies (tinyproxy) answer a CONNECT with 401.
        fail(
          new ProxyError(
            'authentication',
            proxy.username
              ? `The proxy ${shown} refused the user name and password.`
              : `The proxy ${shown} asks for a user name and password: give them as http://user:password@host:port.`,
          ),
        );
      } else {
        fail(
          new ProxyError(
            status ? 'refused' : 'protocol',
            status
              ? `The proxy ${shown} refused to connect to ${authority} (HTTP ${status}).`
              : `The proxy ${shown} did not answer like an HTTP proxy.`,
          ),
        );
      }
    };
    socket.on('data', onData).once('error', onError).once('close', onClose);
    socket.once('connect', () => socket.write(`${headers.join('\r\n')}\r\n\r\n`));
  });
}

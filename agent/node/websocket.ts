import type { Socket } from 'node:net';
import type { ClientOptions } from 'ws';
import { type Outbound, openConnection } from './outbound.ts';

/**
 * Node 22+ (and Deno, and the packaged agent's runtime) have a global WebSocket, which opens its
 * connections through the dispatcher {@link installOutbound} set up. Node 20 has it only behind a
 * flag, so there the `ws` package stands in with the same API, opening its connections the same way
 * (proxy and server trust) when `outbound` is given.
 */
export async function installWebSocket(outbound?: Outbound): Promise<void> {
  if (typeof globalThis.WebSocket === 'function') return;
  const { WebSocket } = await import('ws');
  if (!outbound) {
    (globalThis as { WebSocket: unknown }).WebSocket = WebSocket;
    return;
  }
  class OutboundWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      const url = new URL(address);
      const secure = url.protocol === 'wss:' || url.protocol === 'https:';
      // Node's http client takes an asynchronous connection: the callback form of `createConnection`.
      const createConnection = (
        options: { host: string; port: number | string },
        done: (error: Error | null, socket?: Socket) => void,
      ) => {
        openConnection({ host: options.host, port: Number(options.port), secure }, outbound!).then(
          (socket) => done(null, socket),
          (error: Error) => done(error),
        );
        return undefined;
      };
      super(address, protocols, { createConnection } as unknown as ClientOptions);
    }
  }
  (globalThis as { WebSocket: unknown }).WebSocket = OutboundWebSocket;
}

import type { createNodeWebSocket } from '@hono/node-ws';
import type { Context } from 'hono';
import type { WebSocket } from 'ws';
import { MAX_VIDEO_BYTES, VIDEO_HEADER_BYTES } from '../../protocol/index.ts';
import type { AppEnv } from '../http/app-env.ts';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { Liveness, watchWebSocket } from './liveness.ts';
import type { RelayConnection, RelayPeer } from './relay-peer.ts';

type UpgradeWebSocket = ReturnType<typeof createNodeWebSocket>['upgradeWebSocket'];

/** Largest WebSocket message accepted, in bytes: one video access unit and its header. */
export const MAX_WS_MESSAGE_BYTES = MAX_VIDEO_BYTES + VIDEO_HEADER_BYTES;

/**
 * The relay's WebSocket endpoint. Browsers must come from an allowed origin (agents send none);
 * who the peer is and which session it joins comes from the token in its first message.
 */
export function relayRoute(services: Services, upgradeWebSocket: UpgradeWebSocket) {
  const checkOrigin = async (c: Context<AppEnv>, next: () => Promise<void>) => {
    const origin = c.req.header('origin');
    if (origin && !services.isAllowedOrigin(origin)) {
      services.logger.warn(
        { origin, address: c.get('address') },
        'relay upgrade from a foreign origin refused',
      );
      throw new ApiError(403, 'FORBIDDEN', 'This origin may not open the relay.');
    }
    await next();
  };

  // Every socket, agent's and operator's, is pinged; one whose peer fell silent is terminated and
  // goes through its ordinary close (the agent's grace period, the operators told).
  const liveness = new Liveness(services.config.pingMs);

  const upgrade = upgradeWebSocket((c) => {
    let connection: RelayConnection | undefined;
    let watch: { heard(): void; forget(): void } | undefined;
    const address = (c as Context<AppEnv>).get('address');
    return {
      onOpen(_event, ws) {
        const raw = ws.raw as WebSocket;
        watch = watchWebSocket(liveness, raw, () =>
          services.logger.warn({ event: 'close', address }, 'relay peer silent: connection cut'),
        );
        const peer: RelayPeer = {
          address,
          send: (data) => raw.send(data),
          close: (code, reason) => raw.close(code, reason),
          bufferedAmount: () => raw.bufferedAmount,
        };
        connection = services.relay.accept(peer);
      },
      onMessage(event) {
        watch?.heard();
        const data = event.data;
        if (typeof data === 'string') {
          // The protocol is binary only; a text frame is malformed.
          connection?.onMessage(new Uint8Array(0));
          return;
        }
        connection?.onMessage(new Uint8Array(data as ArrayBuffer));
      },
      onClose() {
        watch?.forget();
        connection?.onClose();
      },
    };
  });

  return [checkOrigin, upgrade] as const;
}

import type { createNodeWebSocket } from '@hono/node-ws';
import type { Context } from 'hono';
import type { WebSocket } from 'ws';
import type { AppEnv } from '../http/app-env.ts';
import { ApiError } from '../http/problem.ts';
import { Liveness } from '../relay/liveness.ts';
import type { Services } from '../services.ts';
import type { DeviceConnection } from './device-hub.ts';

type UpgradeWebSocket = ReturnType<typeof createNodeWebSocket>['upgradeWebSocket'];

/**
 * The device hub's WebSocket endpoint. Only agents connect here, and agents send no Origin: a
 * browser page is refused. Every socket is pinged, and one whose device fell silent (power or
 * network lost) is cut, which marks the device offline within `MISSED_PINGS + 1` ping intervals.
 */
export function deviceHubRoute(services: Services, upgradeWebSocket: UpgradeWebSocket) {
  const noBrowsers = async (c: Context<AppEnv>, next: () => Promise<void>) => {
    if (c.req.header('origin')) throw new ApiError(403, 'FORBIDDEN', 'Only devices connect here.');
    await next();
  };
  const liveness = new Liveness(services.config.pingMs);

  const upgrade = upgradeWebSocket((c) => {
    let connection: DeviceConnection | undefined;
    let watched: { ping(): void; terminate(): void } | undefined;
    const address = (c as Context<AppEnv>).get('address');
    return {
      onOpen(_event, ws) {
        const raw = ws.raw as WebSocket;
        const socket = {
          ping: () => raw.ping(),
          terminate: () => {
            services.logger.warn({ event: 'close', address }, 'device silent: connection cut');
            raw.terminate();
          },
        };
        watched = socket;
        liveness.watch(socket);
        raw.on('pong', () => liveness.heard(socket));
        connection = services.devices.hub.accept({
          address,
          send: (text) => raw.send(text),
          close: (code, reason) => raw.close(code, reason),
        });
      },
      onMessage(event) {
        if (watched) liveness.heard(watched);
        connection?.onMessage(event.data);
      },
      onClose() {
        if (watched) liveness.forget(watched);
        connection?.onClose();
      },
    };
  });

  return [noBrowsers, upgrade] as const;
}

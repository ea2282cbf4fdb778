import type { createNodeWebSocket } from '@hono/node-ws';
import type { Context } from 'hono';
import type { WebSocket } from 'ws';
import type { AppEnv } from '../http/app-env.ts';
import { ApiError } from '../http/problem.ts';
import { Liveness, watchWebSocket } from '../relay/liveness.ts';
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
    let watch: ReturnType<typeof watchWebSocket> | undefined;
    const address = (c as Context<AppEnv>).get('address');
    return {
      onOpen(_event, ws) {
        const raw = ws.raw as WebSocket;
        watch = watchWebSocket(liveness, raw, () =>
          services.logger.warn({ event: 'close', address }, 'device silent: connection cut'),
        );
        connection = services.devices.hub.accept({
          address,
          send: (text) => raw.send(text),
          close: (code, reason) => raw.close(code, reason),
        });
      },
      onMessage(event) {
        watch?.heard();
        connection?.onMessage(event.data);
      },
      onClose() {
        watch?.forget();
        connection?.onClose();
      },
    };
  });

  return [noBrowsers, upgrade] as const;
}

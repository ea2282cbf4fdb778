import { installOutbound } from '../node/outbound.ts';
import { proxyFor, proxySettings } from '../node/proxy-settings.ts';
import { ServerTrust } from '../node/server-identity.ts';
import { installWebSocket } from '../node/websocket.ts';
import type { DeviceCredentials } from './credentials.ts';

/** The refusal's wording for a resident device: its pin comes from its enrolment, not a download. */
export const ENROLLED_WITH = 'this device was enrolled with';

/**
 * Makes `fetch` and `WebSocket` reach the device's server as its credentials say: through their
 * proxy (or the environment's), and, when they hold the pin of the server's TLS key
 * ({@link DeviceCredentials.serverKey}), to that server only. The service and every session host it
 * starts go through here, so they reach and recognise the server alike. `trust` is the one to use
 * (install passes one that pins the first server it meets).
 *
 * @returns the proxy the server is reached through, if any (for the log).
 */
export async function reachServer(
  reach: Pick<DeviceCredentials, 'proxy' | 'serverKey'>,
  server: string | undefined,
  trust: ServerTrust = new ServerTrust(),
): Promise<URL | undefined> {
  if (reach.serverKey) trust.pinTo(reach.serverKey, ENROLLED_WITH);
  const outbound = { proxy: proxySettings(reach.proxy), trust };
  installOutbound(outbound);
  await installWebSocket(outbound);
  return server && URL.canParse(server) ? proxyFor(new URL(server), outbound.proxy) : undefined;
}

import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import {
  ALL_PERMISSIONS,
  type ControlMessage,
  decodeFrame,
  encodeControl,
  type Permissions,
  PROTOCOL_VERSION,
} from '../../protocol/index.ts';

/**
 * A crafted relay: it skips every check the real relay makes, lets an operator (Mallory, asking for
 * everything) in as soon as the agent says hello, and sends `afterConsent` straight to the agent once
 * it consents, as a compromised relay or a modified console with a path to the agent would.
 * `received` holds every control message the agent sent, `consents` the permissions it granted.
 * @example
 * const relay = await craftedRelay([{ type: 'input', event: { kind: 'move', x: 0.5, y: 0.5 } }]);
 * const session = new AgentSession({ relayUrl: relay.url, token: 't', … });
 */
export async function craftedRelay(afterConsent: readonly ControlMessage[]) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const consents: Permissions[] = [];
  const received: ControlMessage[] = [];
  server.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => {
      const decoded = decodeFrame(new Uint8Array(data));
      if (!decoded.ok || decoded.frame.kind !== 'control') return;
      const message = decoded.frame.message;
      received.push(message);
      if (message.type === 'hello') {
        socket.send(encodeControl({ type: 'welcome', protocol: PROTOCOL_VERSION, sessionId: 'crafted' }));
        socket.send(
          encodeControl({
            type: 'operator-joined',
            operator: { id: 'mallory', name: 'Mallory' },
            requested: ALL_PERMISSIONS,
          }),
        );
      }
      if (message.type === 'consent') {
        consents.push(message.permissions);
        for (const next of afterConsent) socket.send(encodeControl(next));
      }
    });
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    consents,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

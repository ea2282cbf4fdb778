import {
  CloseCode,
  type DeviceMessage,
  decodeDeviceMessage,
  MIN_PROTOCOL_VERSION,
  type OrderResult,
  type ResultCode,
} from '../../protocol/index.ts';
import type { Logger } from '../logger.ts';
import { HELLO_TIMEOUT_MS } from '../relay/relay.ts';
import { isTokenError } from '../tokens/tokens.ts';
import type { DeviceIdentity } from './device-identity.ts';
import type { DeviceStore } from './device-store.ts';

/** The part of a socket the hub uses. */
export interface DevicePeer {
  address: string;
  send(text: string): void;
  close(code: number, reason: string): void;
}

/** What the WebSocket route feeds the hub for one socket. */
export interface DeviceConnection {
  onMessage(data: unknown): void;
  onClose(): void;
}

export interface DeviceHubOptions {
  store: DeviceStore;
  identity: DeviceIdentity;
  logger: Logger;
  node: string;
  /** How often devices send a heartbeat, in milliseconds. */
  heartbeatMs: number;
  helloTimeoutMs?: number;
}

interface Held {
  peer: DevicePeer;
  lastHeard: Date;
}

/** An order sent to a device and not answered yet. */
interface PendingOrder {
  deviceId: string;
  peer: DevicePeer;
  settle: (result: OrderResult) => void;
}

/**
 * The resident agents' sockets on this node: a device says hello with its identity token, is
 * marked online, heartbeats, and goes offline when its socket closes (or is cut by the route's
 * liveness watch). Separate from the session relay: a device socket carries no session.
 */
export class DeviceHub {
  private readonly held = new Map<string, Held>();
  /** Orders awaiting their `order-result`, by order id. */
  private readonly pending = new Map<string, PendingOrder>();

  constructor(private readonly options: DeviceHubOptions) {}

  /** Whether a device's socket is held here, and when it was last heard from. */
  lastHeard(deviceId: string): Date | undefined {
    return this.held.get(deviceId)?.lastHeard;
  }

  /** Closes the device's socket, if held here (it was uninstalled or forgotten). */
  drop(deviceId: string): void {
    const held = this.held.get(deviceId);
    if (!held) return;
    this.held.delete(deviceId);
    this.settlePending(held.peer);
    held.peer.close(CloseCode.policy, 'device removed');
  }

  /**
   * Sends a signed order (see send-order.ts) to a device held here and resolves with its answer;
   * `DEVICE_OFFLINE` when the device is not connected here or goes away before answering,
   * `TIMEOUT` when it does not answer within `timeoutMs`. Never rejects.
   */
  order(deviceId: string, order: { id: string; token: string }, timeoutMs: number): Promise<OrderResult> {
    const held = this.held.get(deviceId);
    if (!held)
      return Promise.resolve({ ok: false, code: 'DEVICE_OFFLINE', message: 'The device is offline.' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(order.id);
        resolve({ ok: false, code: 'TIMEOUT', message: 'The device did not answer the order in time.' });
      }, timeoutMs);
      this.pending.set(order.id, {
        deviceId,
        peer: held.peer,
        settle: (result) => {
          clearTimeout(timer);
          this.pending.delete(order.id);
          resolve(result);
        },
      });
      held.peer.send(
        JSON.stringify({ type: 'order', id: order.id, token: order.token } satisfies DeviceMessage),
      );
    });
  }

  /** Every order still waiting on `peer` fails: its socket is gone. */
  private settlePending(peer: DevicePeer): void {
    for (const pending of [...this.pending.values()])
      if (pending.peer === peer)
        pending.settle({
          ok: false,
          code: 'DEVICE_OFFLINE',
          message: 'The device went offline before answering the order.',
        });
  }

  accept(peer: DevicePeer): DeviceConnection {
    const { logger, store, node } = this.options;
    let deviceId: string | undefined;
    let closed = false;
    const send = (message: DeviceMessage) => peer.send(JSON.stringify(message));
    const refuse = (code: ResultCode, message: string, closeCode: number = CloseCode.policy) => {
      send({ type: 'error', code, message });
      peer.close(closeCode, code);
    };
    const helloTimer = setTimeout(
      () => refuse('HELLO_TIMEOUT', 'No hello within the time limit.', CloseCode.helloTimeout),
      this.options.helloTimeoutMs ?? HELLO_TIMEOUT_MS,
    );

    const hello = async (message: Extract<DeviceMessage, { type: 'hello' }>) => {
      if (message.protocol < MIN_PROTOCOL_VERSION) {
        refuse('PROTOCOL_UNSUPPORTED', `Protocol ${message.protocol} is too old; update the agent.`);
        return;
      }
      let device: Awaited<ReturnType<DeviceIdentity['verify']>>;
      try {
        device = await this.options.identity.verify(message.token);
      } catch (error) {
        if (!isTokenError(error)) throw error;
        logger.warn({ event: 'device-refused', address: peer.address }, 'device hello refused');
        refuse('TOKEN_INVALID', error.message);
        return;
      }
      if (closed) return;
      deviceId = device.id;
      // A device has one link: a newer one (after a network change) replaces the old.
      this.held.get(device.id)?.peer.close(CloseCode.normal, 'replaced');
      this.held.set(device.id, { peer, lastHeard: new Date() });
      await store.connected(device.id, node, message.report);
      logger.info({ event: 'device-connect', deviceId: device.id, address: peer.address }, 'device online');
      send({
        type: 'welcome',
        deviceId: device.id,
        heartbeatSeconds: this.options.heartbeatMs / 1000,
      });
    };

    const handle = async (data: unknown) => {
      const message = decodeDeviceMessage(data);
      if (!message) {
        refuse('MALFORMED', 'That is not a device message.');
        return;
      }
      if (!deviceId) {
        if (message.type !== 'hello') {
          refuse('MALFORMED', 'Say hello first.');
          return;
        }
        clearTimeout(helloTimer);
        await hello(message);
        return;
      }
      const held = this.held.get(deviceId);
      if (held?.peer === peer) held.lastHeard = new Date();
      if (message.type === 'heartbeat') send({ type: 'heartbeat' });
      else if (message.type === 'report') await store.report(deviceId, message.report);
      else if (message.type === 'order-result') {
        // Only the socket an order went to may answer it.
        const pending = this.pending.get(message.id);
        if (pending?.peer === peer) pending.settle(message.result);
      }
    };

    return {
      onMessage: (data) => {
        handle(data).catch((error: unknown) => {
          logger.error({ err: error, deviceId, address: peer.address }, 'device message failed');
          refuse('INTERNAL', 'The server failed to handle that message.', CloseCode.serviceRestart);
        });
      },
      onClose: () => {
        closed = true;
        clearTimeout(helloTimer);
        this.settlePending(peer);
        if (!deviceId) return;
        const held = this.held.get(deviceId);
        if (held?.peer !== peer) return;
        this.held.delete(deviceId);
        logger.info({ event: 'device-close', deviceId, address: peer.address }, 'device offline');
        store.disconnected(deviceId, node, held.lastHeard).catch((error: unknown) => {
          logger.error({ err: error, deviceId }, 'recording a device offline failed');
        });
      },
    };
  }

  /** Closes every socket, as at shutdown: the devices reconnect to whichever node is up. */
  shutdown(): void {
    for (const [id, held] of this.held) {
      this.held.delete(id);
      this.settlePending(held.peer);
      held.peer.close(CloseCode.serviceRestart, 'server restarting');
    }
  }
}

import { createHash } from 'node:crypto';
import {
  CloseCode,
  type DeviceMessage,
  decodeDeviceMessage,
  MIN_PROTOCOL_VERSION,
  type OrderResult,
  PRESENCE_LIFETIME_SECONDS,
  type ResultCode,
} from '../../protocol/index.ts';
import type { Logger } from '../logger.ts';
import { HELLO_TIMEOUT_MS } from '../relay/relay.ts';
import { TaskQueue } from '../relay/spread.ts';
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
  /** The hashes of the device's live presence proofs, oldest first (at most two). */
  proofs: string[];
}

/** A presence proof a device registered, by its hash. */
interface Presence {
  deviceId: string;
  peer: DevicePeer;
  /** When the hub stops accepting it, in epoch milliseconds. */
  expiresAt: number;
}

/** How many proofs of one device are live at once: its current one and the one before. */
const LIVE_PROOFS = 2;

/** A proof is kept by its SHA-256 only: the map never holds what a session would send. */
function proofHash(proof: string): string {
  return createHash('sha256').update(proof).digest('base64url');
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
  /** Live presence proofs of the devices held here, by hash (protocol/device.ts). */
  private readonly presence = new Map<string, Presence>();
  /**
   * Offline writes, a few at a time with the event loop turning between them: a site losing its link
   * drops thousands of sockets at once, and their writes must not hold the hub in one stretch.
   */
  private readonly offlineWrites = new TaskQueue(4);

  constructor(private readonly options: DeviceHubOptions) {}

  /** Whether a device's socket is held here, and when it was last heard from. */
  lastHeard(deviceId: string): Date | undefined {
    return this.held.get(deviceId)?.lastHeard;
  }

  /** Closes the device's socket, if held here (it was uninstalled or forgotten). */
  drop(deviceId: string): void {
    const held = this.held.get(deviceId);
    if (!held) return;
    this.release(deviceId, held);
    held.peer.close(CloseCode.policy, 'device removed');
  }

  /**
   * Spends a presence proof a one-shot agent sent: the id of the device that registered it when it
   * is live (registered within {@link PRESENCE_LIFETIME_SECONDS}, not spent, its device still
   * connected here), else undefined. Single use: the device is asked for a new one at once, also
   * when the proof had expired.
   */
  claimPresence(proof: string): string | undefined {
    const hash = proofHash(proof);
    const found = this.presence.get(hash);
    if (!found) return undefined;
    this.presence.delete(hash);
    const held = this.held.get(found.deviceId);
    if (held?.peer !== found.peer) return undefined;
    // Spent either way: the device writes a new one at once, so its file never holds a dead proof.
    held.proofs = held.proofs.filter((kept) => kept !== hash);
    held.peer.send(JSON.stringify({ type: 'presence-used' } satisfies DeviceMessage));
    return Date.now() < found.expiresAt ? found.deviceId : undefined;
  }

  /** Forgets a device's socket: its orders fail and its proofs die. */
  private release(deviceId: string, held: Held): void {
    this.held.delete(deviceId);
    this.settlePending(held.peer);
    for (const hash of held.proofs) this.presence.delete(hash);
  }

  /** Registers a device's new presence proof; its oldest dies when it has more than {@link LIVE_PROOFS}. */
  private registerPresence(deviceId: string, held: Held, proof: string): void {
    const hash = proofHash(proof);
    // Two devices never share a proof (32 random bytes); one sent twice is not renewed.
    if (this.presence.has(hash)) return;
    this.presence.set(hash, {
      deviceId,
      peer: held.peer,
      expiresAt: Date.now() + PRESENCE_LIFETIME_SECONDS * 1000,
    });
    held.proofs.push(hash);
    while (held.proofs.length > LIVE_PROOFS) this.presence.delete(held.proofs.shift()!);
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
      const replaced = this.held.get(device.id);
      if (replaced) {
        this.release(device.id, replaced);
        replaced.peer.close(CloseCode.normal, 'replaced');
      }
      this.held.set(device.id, { peer, lastHeard: new Date(), proofs: [] });
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
      else if (message.type === 'presence' && held?.peer === peer)
        this.registerPresence(deviceId, held, message.proof);
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
        this.release(deviceId, held);
        logger.info({ event: 'device-close', deviceId, address: peer.address }, 'device offline');
        const id = deviceId;
        this.offlineWrites
          // A device that came back to this node while its write waited is online: nothing to write.
          .run(async () => (this.held.has(id) ? undefined : store.disconnected(id, node, held.lastHeard)))
          .catch((error: unknown) => {
            logger.error({ err: error, deviceId: id }, 'recording a device offline failed');
          });
      },
    };
  }

  /** Closes every socket, as at shutdown: the devices reconnect to whichever node is up. */
  shutdown(): void {
    for (const [id, held] of this.held) {
      this.release(id, held);
      held.peer.close(CloseCode.serviceRestart, 'server restarting');
    }
  }
}

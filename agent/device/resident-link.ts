import {
  DEVICE_HUB_PATH,
  type DeviceMessage,
  type DeviceReport,
  decodeDeviceMessage,
  Heartbeat,
  type OrderResult,
  PROTOCOL_VERSION,
} from '../../protocol/index.ts';
import { Backoff } from '../core/backoff.ts';
import { connectionFailure } from '../node/outbound.ts';

/** Pauses between reconnections, in milliseconds: quick after a blip, at most a minute when down. */
const FIRST_PAUSE_MS = 500;
const MAX_PAUSE_MS = 60_000;

export interface ResidentLinkOptions {
  server: string;
  /** A fresh identity token for each hello. */
  token: () => Promise<string>;
  report: () => DeviceReport;
  log: (fields: Record<string, unknown>, message: string) => void;
  /** Called once the hub welcomed the device, and whenever it says a presence proof was spent. */
  onPresenceWanted?: () => void;
  /** Verifies and carries out an order the hub forwarded; never throws. */
  onOrder?: (token: string) => Promise<OrderResult>;
  openSocket?: (url: string) => WebSocket;
}

/** Why the link stopped for good. */
export type LinkEnd = { kind: 'stopped' } | { kind: 'refused'; message: string };

/** The device hub's address for a control plane at `server`. */
export function hubUrl(server: string): string {
  const url = new URL(DEVICE_HUB_PATH, server);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/**
 * The resident agent's outbound link to the device hub: hello with a fresh identity token, a
 * heartbeat each interval the hub asks for (a hub gone silent is given up and reconnected to), a
 * new report when the console user changes, and reconnection with growing pauses for as long as
 * the service runs. Only a refused identity ends it (the device was forgotten or uninstalled).
 */
export class ResidentLink {
  private socket: WebSocket | undefined;
  private welcomed = false;
  private heartbeat: Heartbeat | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly backoff = new Backoff(FIRST_PAUSE_MS, MAX_PAUSE_MS);

  constructor(private readonly options: ResidentLinkOptions) {}

  /** Connects and stays connected; resolves when stopped or refused. */
  async run(): Promise<LinkEnd> {
    while (!this.stopped) {
      const outcome = await this.connectOnce();
      if (outcome.kind === 'refused') return outcome;
      if (this.stopped) break;
      const pause = this.backoff.next();
      this.options.log({ event: 'reconnect', pauseMs: pause }, 'connection to the control plane lost');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, pause);
      });
    }
    return { kind: 'stopped' };
  }

  /** Registers a presence proof with the hub (protocol/device.ts); nothing while not welcomed. */
  sendPresence(proof: string): void {
    if (!this.welcomed || this.socket?.readyState !== 1) return;
    this.socket.send(JSON.stringify({ type: 'presence', proof } satisfies DeviceMessage));
  }

  /** Closes the link politely (the service is stopping). */
  stop(): void {
    this.stopped = true;
    this.heartbeat?.stop();
    this.socket?.close(1000, 'service stopping');
    this.wake?.();
  }

  /** One connection, until it closes: `closed` to try again, `refused` to give up. */
  private async connectOnce(): Promise<{ kind: 'closed' } | { kind: 'refused'; message: string }> {
    let token: string;
    try {
      token = await this.options.token();
    } catch (error) {
      return { kind: 'refused', message: `The device key cannot sign: ${(error as Error).message}` };
    }
    const socket = (this.options.openSocket ?? ((url) => new WebSocket(url)))(hubUrl(this.options.server));
    this.socket = socket;
    this.welcomed = false;
    const send = (message: DeviceMessage) => {
      if (socket.readyState === 1) socket.send(JSON.stringify(message));
    };
    return new Promise((resolve) => {
      let refusal: string | undefined;
      let lastReport = '';
      socket.addEventListener('open', () => {
        const report = this.options.report();
        lastReport = JSON.stringify(report);
        send({ type: 'hello', protocol: PROTOCOL_VERSION, token, report });
      });
      socket.addEventListener('message', (event) => {
        this.heartbeat?.heard();
        const message = decodeDeviceMessage(event.data);
        if (!message) return;
        if (message.type === 'welcome') {
          this.backoff.reset();
          this.options.log(
            { event: 'connect', deviceId: message.deviceId },
            'connected to the control plane',
          );
          this.heartbeat?.stop();
          this.heartbeat = new Heartbeat(
            message.heartbeatSeconds * 1000,
            () => {
              send({ type: 'heartbeat' });
              const report = this.options.report();
              if (JSON.stringify(report) === lastReport) return;
              lastReport = JSON.stringify(report);
              send({ type: 'report', report });
            },
            () => {
              this.options.log({ event: 'silent' }, 'the control plane fell silent');
              socket.close();
              // A socket whose peer is gone may wait long for the closing handshake.
              resolve({ kind: 'closed' });
            },
          );
          this.welcomed = true;
          this.options.onPresenceWanted?.();
        } else if (message.type === 'presence-used') {
          this.options.onPresenceWanted?.();
        } else if (message.type === 'order') {
          const { id, token } = message;
          const obey =
            this.options.onOrder?.(token) ??
            Promise.resolve<OrderResult>({
              ok: false,
              code: 'NOT_SUPPORTED',
              message: 'This agent takes no orders.',
            });
          void obey
            .catch(
              (error: unknown): OrderResult => ({
                ok: false,
                code: 'INTERNAL',
                message: `The order failed: ${(error as Error).message}`.slice(0, 500),
              }),
            )
            .then((result) => {
              this.options.log(
                { event: 'order', orderId: id, result: result.ok ? 'ok' : result.code },
                result.ok ? 'order carried out' : `order refused: ${result.message}`,
              );
              send({ type: 'order-result', id, result });
            });
        } else if (message.type === 'error') {
          if (message.code === 'TOKEN_INVALID') refusal = message.message;
          this.options.log({ event: 'refused', code: message.code }, message.message);
        }
      });
      socket.addEventListener('close', () => {
        if (this.socket === socket) this.welcomed = false;
        this.heartbeat?.stop();
        resolve(refusal ? { kind: 'refused', message: refusal } : { kind: 'closed' });
      });
      socket.addEventListener('error', (event) => {
        // 'close' follows. A server the device does not recognise, or a refusing proxy, is said why.
        const refused = connectionFailure((event as { error?: unknown }).error);
        if (refused) this.options.log({ event: 'server-refused' }, refused);
      });
    });
  }
}

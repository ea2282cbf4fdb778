import { DeviceChannels } from '../../agent/core/channels.ts';
import { createNodeFileHost } from '../../agent/files/node-file-host.ts';
import { createCommandHost } from '../../agent/shell/command-host.ts';
import { LiveProcesses } from '../../agent/shell/live-processes.ts';
import { type ControlMessage, decodeFrame, NO_PERMISSIONS, type Permissions } from '../../protocol/index.ts';
import type { TestControlPlane } from '../support/control-plane.ts';
import { connectAgent, type RelayClient } from './relay-client.ts';

const NOTHING: Permissions = { ...NO_PERMISSIONS };

/** What the scripted agent does when an operator joins. */
export type ConsentScript = { accept: Permissions } | 'ask';

/** How far a download went, as seen on the wire: bytes sent and bytes the operator acknowledged. */
interface DownloadProgress {
  sent: number;
  acked: number;
}

/**
 * A test agent on a real socket whose channels are the real agent's (`DeviceChannels` over the real
 * folder and command host), while the test scripts the rest: consent, permission answers, and
 * misbehaviour (a spoiled checksum). It lets the API's tests reach a folder and commands without
 * the screen, and watch the transfers on the wire.
 */
export class ScriptedAgent {
  /** Downloads under way by channel, as their frames and acks went by. */
  readonly downloads = new Map<number, DownloadProgress>();
  /** Every channel the API closed, in order. */
  readonly closedChannels: number[] = [];
  /** Set to make the next download's checksum wrong. */
  corruptNextChecksum = false;
  /** What an operator's permission request gets: everything asked ('grant') or nothing ('refuse'). */
  more: 'grant' | 'refuse' = 'refuse';
  /** What the user allows, as this agent last told the relay (its consent script's answer). */
  permissions: Permissions | undefined;
  private answered = false;
  private readonly live = new LiveProcesses();
  private readonly channels: DeviceChannels;

  private constructor(
    readonly client: RelayClient,
    readonly sessionId: string,
    readonly code: string,
    readonly root: string,
    private readonly consent: ConsentScript,
  ) {
    this.channels = new DeviceChannels(
      { files: createNodeFileHost(root), commands: createCommandHost({ root, live: this.live }) },
      {
        uplink: {
          send: (message) => client.link.send(this.watchOutgoing(message)),
          sendBytes: (bytes) => {
            this.watchFrame(bytes);
            client.link.sendFrame(bytes);
          },
          congested: () => false,
          drained: async () => {},
        },
        // The relay enforces the consent; the test decides what it answers.
        allows: () => true,
        report: () => {},
        operatorName: () => 'The operator',
      },
    );
    client.onReceived(({ frame }) => {
      if (frame?.kind === 'control') void this.onMessage(frame.message);
      else if (frame?.kind === 'file' || frame?.kind === 'shell') this.channels.frame(frame);
    });
  }

  /** Registers, connects and says hello with `features`. */
  static async start(
    cp: TestControlPlane,
    root: string,
    options: { consent?: ConsentScript; features?: string[] } = {},
  ): Promise<ScriptedAgent> {
    const { agent, registration } = await connectAgent(cp, {
      client: {
        name: 'scripted-agent',
        version: '0.0.0',
        hostname: 'scripted',
        os: 'linux',
        features: options.features ?? ['chat', 'files', 'shell', 'exec'],
      },
    });
    return new ScriptedAgent(
      agent,
      registration.sessionId,
      registration.code,
      root,
      options.consent ?? 'ask',
    );
  }

  private async onMessage(message: Parameters<RelayClient['send']>[0]): Promise<void> {
    switch (message.type) {
      case 'operator-joined':
        if (this.consent !== 'ask' && !this.answered) {
          this.answered = true;
          this.permissions = { ...this.consent.accept };
          this.client.send({ type: 'consent', accepted: true, permissions: this.consent.accept });
        }
        return;
      case 'permission-request': {
        // Like the real agent: every request is answered with a permissions message.
        // A consent the test sent itself is unknown here: then only what is granted now is reported.
        const current = { ...(this.permissions ?? NOTHING) };
        if (this.more === 'grant') {
          for (const [capability, wanted] of Object.entries(message.requested)) {
            if (wanted) current[capability as keyof Permissions] = true;
          }
        }
        this.permissions = current;
        this.client.send({ type: 'permissions', permissions: current });
        return;
      }
      case 'file-ack': {
        const download = this.downloads.get(message.channel);
        if (download) download.acked = Math.max(download.acked, message.offset);
        break;
      }
      case 'channel-close':
        this.closedChannels.push(message.channel);
        this.downloads.delete(message.channel);
        break;
      case 'file-read':
        this.downloads.set(message.channel, { sent: message.offset, acked: message.offset });
        break;
      default:
    }
    this.channels.handle(message);
  }

  /** What the agent's channels send, watched on its way out: downloads' progress, a checksum spoiled. */
  private watchOutgoing(message: ControlMessage): ControlMessage {
    if (message.type === 'file-end') {
      this.downloads.delete(message.channel);
      if (this.corruptNextChecksum) {
        this.corruptNextChecksum = false;
        return { ...message, sha256: message.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0')) };
      }
    } else if (message.type === 'channel-error') this.downloads.delete(message.channel);
    return message;
  }

  /** Counts a download's chunk as sent. */
  private watchFrame(bytes: Uint8Array): void {
    const decoded = decodeFrame(bytes);
    if (!decoded.ok || decoded.frame.kind !== 'file') return;
    const download = this.downloads.get(decoded.frame.channel);
    if (download) download.sent = decoded.frame.offset + decoded.frame.data.byteLength;
  }

  async close(): Promise<void> {
    await this.channels.finish();
    this.live.stopAll();
    await this.client.close();
  }
}

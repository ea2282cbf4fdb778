import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceChannels } from '../../agent/core/channels.ts';
import { PART_SUFFIX } from '../../agent/core/wire-path.ts';
import { createNodeFileHost } from '../../agent/files/node-file-host.ts';
import { type ControlMessage, decodeFrame } from '../../protocol/index.ts';
import type { RelayPeer } from './fake-control-plane.ts';

/** A folder of the scripted agent: names to file bytes or folders. */
export interface ScriptedFolder {
  [name: string]: Uint8Array | ScriptedFolder;
}

/** Every file's modification time, in ms since the epoch. */
export const MODIFIED_AT = Date.UTC(2025, 0, 15, 9, 30);

/** Every scratch folder made in this process, removed when it exits. */
const scratchFolders = new Set<string>();
process.once('exit', () => {
  for (const folder of scratchFolders) rmSync(folder, { recursive: true, force: true });
});

/**
 * The agent's side of chat and files over a fake relay socket: the real agent's channels
 * (`DeviceChannels` over the real file host) on a scratch folder made from `tree`, shown to the
 * operator as `root`. The test reads the folder back with {@link find}, plants part files of earlier
 * uploads with {@link parts}, and slows or stops acknowledgements as a slow link would. Chat is echoed
 * as the relay stamps it; shells are left to each test.
 */
export class ScriptedAgent {
  /** The scratch folder that stands for the shared folder. */
  readonly folder = mkdtempSync(join(tmpdir(), 'lifeline-scripted-'));
  /** Partial uploads by path, written as the `<name>.lifeline-part` files the agent resumes from. */
  readonly parts = { set: (path: string, data: Uint8Array) => this.#write(`${path}${PART_SUFFIX}`, data) };
  /** Called after each download chunk goes out, with the offset it reached. */
  onChunkSent: ((path: string, sent: number) => void) | undefined;
  /** Holds each upload acknowledgement this long, in ms, as a slow link would. */
  ackDelayMs = 0;
  /** Stops acknowledging uploads past this many bytes, so a transfer stays under way. */
  ackLimit = Number.POSITIVE_INFINITY;
  /** Once the relay connection closed or dropped: the channels that were open then, now closed. */
  readonly closed: Promise<number[]>;
  readonly #peer: RelayPeer;
  readonly #channels: DeviceChannels;
  /** Downloads' paths by channel, for {@link onChunkSent}. */
  readonly #reading = new Map<number, string>();

  constructor(
    peer: RelayPeer,
    tree: ScriptedFolder,
    readonly root = '/home/bob',
  ) {
    this.#peer = peer;
    scratchFolders.add(this.folder);
    this.#plant('', tree);
    const host = { ...createNodeFileHost(this.folder), root };
    this.#channels = new DeviceChannels(
      { files: host },
      {
        uplink: {
          send: (message) => this.#send(message),
          sendBytes: (bytes) => {
            peer.sendRaw(bytes);
            this.#sent(bytes);
          },
          congested: () => false,
          drained: async () => {},
        },
        allows: () => true,
        report: () => {},
        operatorName: () => 'Alice Operator',
      },
    );
    // As the real agent does when its relay connection is lost: every shell, command and transfer
    // ends, so each download's open file is closed now rather than left to the garbage collector.
    this.closed = new Promise((resolve) => {
      peer.onClose = () => resolve(this.#channels.closeAll());
    });
    peer.onReceive = (item) => {
      if (!('type' in item)) this.#channels.frame(item);
      else if (item.type === 'chat')
        this.#send({
          ...item,
          from: { kind: 'operator', id: 'op-1', name: 'Alice Operator' },
          sentAt: Date.now(),
        });
      else {
        if (item.type === 'file-read') this.#reading.set(item.channel, item.path);
        this.#channels.handle(item);
      }
    };
  }

  /** The bytes or folder at a shared path, or undefined. */
  find(path: string): Uint8Array | ScriptedFolder | undefined {
    const full = join(this.folder, path);
    const info = statSync(full, { throwIfNoEntry: false });
    if (!info) return undefined;
    if (info.isFile()) return new Uint8Array(readFileSync(full));
    const folder: ScriptedFolder = {};
    for (const name of readdirSync(full)) {
      const entry = this.find(join(path, name));
      if (entry) folder[name] = entry;
    }
    return folder;
  }

  #plant(path: string, folder: ScriptedFolder): void {
    for (const [name, value] of Object.entries(folder)) {
      const at = join(path, name);
      if (value instanceof Uint8Array) this.#write(at, value);
      else {
        mkdirSync(join(this.folder, at));
        this.#plant(at, value);
        utimesSync(join(this.folder, at), MODIFIED_AT / 1000, MODIFIED_AT / 1000);
      }
    }
  }

  #write(path: string, data: Uint8Array): void {
    writeFileSync(join(this.folder, path), data);
    utimesSync(join(this.folder, path), MODIFIED_AT / 1000, MODIFIED_AT / 1000);
  }

  #send(message: ControlMessage): void {
    if (message.type === 'file-ack') {
      if (message.offset > this.ackLimit) return;
      if (this.ackDelayMs > 0) {
        setTimeout(() => this.#peer.send(message), this.ackDelayMs);
        return;
      }
    }
    if (message.type === 'file-end' || message.type === 'channel-error')
      this.#reading.delete(message.channel);
    this.#peer.send(message);
  }

  #sent(bytes: Uint8Array): void {
    const decoded = decodeFrame(bytes);
    if (!decoded.ok || decoded.frame.kind !== 'file') return;
    const path = this.#reading.get(decoded.frame.channel);
    if (path !== undefined) this.onChunkSent?.(path, decoded.frame.offset + decoded.frame.data.byteLength);
  }
}

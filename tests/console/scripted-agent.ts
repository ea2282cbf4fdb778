import { createHash } from 'node:crypto';
import {
  type ControlMessage,
  encodeFileChunk,
  FILE_ACK_EVERY_BYTES,
  FILE_CHUNK_BYTES,
  FILE_WINDOW_BYTES,
  type FileChunkFrame,
  type FileEntry,
  MAX_LISTING_ENTRIES,
  type MessageOf,
  type ShellDataFrame,
} from '../../protocol/index.ts';
import type { RelayPeer } from './fake-control-plane.ts';

/** A folder of the scripted agent: names to file bytes or folders. */
export interface ScriptedFolder {
  [name: string]: Uint8Array | ScriptedFolder;
}

/** Every file's modification time, in ms since the epoch. */
export const MODIFIED_AT = Date.UTC(2025, 0, 15, 9, 30);

/**
 * The agent's side of chat and files, played over a fake relay socket with the protocol's rules:
 * listings sorted folders first and paged, downloads within the window of the last ack, uploads
 * resumed from their part, acknowledged and checked against their SHA-256, and file operations.
 * Shells are left to each test.
 */
export class ScriptedAgent {
  /** Partial uploads by path, as `<name>.lifeline-part` files would hold them. */
  readonly parts = new Map<string, Uint8Array>();
  /** Called after each download chunk goes out, with the offset it reached. */
  onChunkSent: ((path: string, sent: number) => void) | undefined;
  /** Holds each upload acknowledgement this long, in ms, as a slow link would. */
  ackDelayMs = 0;
  /** Stops acknowledging uploads past this many bytes, so a transfer stays under way. */
  ackLimit = Number.POSITIVE_INFINITY;
  readonly #peer: RelayPeer;
  readonly #reads = new Map<number, { path: string; data: Uint8Array; sent: number; acked: number }>();
  readonly #writes = new Map<
    number,
    { path: string; size: number; chunks: Uint8Array[]; received: number; acked: number }
  >();

  constructor(
    peer: RelayPeer,
    readonly tree: ScriptedFolder,
    readonly root = '/home/bob',
  ) {
    this.#peer = peer;
    peer.onReceive = (item) => {
      if ('type' in item) this.#onMessage(item);
      else this.#onFrame(item);
    };
  }

  /** The bytes or folder at a shared path, or undefined. */
  find(path: string): Uint8Array | ScriptedFolder | undefined {
    let at: Uint8Array | ScriptedFolder | undefined = this.tree;
    for (const part of path.split('/').filter(Boolean)) {
      if (!at || at instanceof Uint8Array) return undefined;
      at = at[part];
    }
    return at;
  }

  #send(message: ControlMessage): void {
    this.#peer.send(message);
  }

  #error(channel: number, code: MessageOf<'channel-error'>['code'], message: string = code): void {
    this.#send({ type: 'channel-error', channel, code, message });
  }

  #onMessage(message: ControlMessage): void {
    switch (message.type) {
      case 'chat':
        this.#send({
          ...message,
          from: { kind: 'operator', id: 'op-1', name: 'Alice Operator' },
          sentAt: Date.now(),
        });
        return;
      case 'file-list':
        this.#list(message);
        return;
      case 'file-read':
        this.#read(message);
        return;
      case 'file-ack':
        this.#ack(message.channel, message.offset);
        return;
      case 'file-write':
        this.#write(message);
        return;
      case 'file-end':
        this.#end(message);
        return;
      case 'file-op':
        this.#op(message);
        return;
      case 'channel-close':
        this.#reads.delete(message.channel);
        this.#writes.delete(message.channel);
        return;
      default:
        return;
    }
  }

  #list(message: MessageOf<'file-list'>) {
    const folder = this.find(message.path);
    if (!folder) return this.#error(message.channel, 'FILE_NOT_FOUND');
    if (folder instanceof Uint8Array) return this.#error(message.channel, 'NOT_A_FOLDER');
    const entries: FileEntry[] = Object.entries(folder)
      .map(
        ([name, value]): FileEntry => ({
          name,
          type: value instanceof Uint8Array ? 'file' : 'directory',
          size: value instanceof Uint8Array ? value.byteLength : 0,
          modifiedAt: MODIFIED_AT,
        }),
      )
      .sort(
        (a, b) =>
          Number(b.type === 'directory') - Number(a.type === 'directory') ||
          a.name.toLowerCase().localeCompare(b.name.toLowerCase()),
      );
    const offset = message.offset ?? 0;
    this.#send({
      type: 'file-listing',
      channel: message.channel,
      path: message.path,
      root: this.root,
      offset,
      total: entries.length,
      entries: entries.slice(offset, offset + MAX_LISTING_ENTRIES),
    });
  }

  #read(message: MessageOf<'file-read'>) {
    const data = this.find(message.path);
    if (!data) return this.#error(message.channel, 'FILE_NOT_FOUND');
    if (!(data instanceof Uint8Array)) return this.#error(message.channel, 'NOT_A_FILE');
    this.#send({
      type: 'file-info',
      channel: message.channel,
      path: message.path,
      size: data.byteLength,
      modifiedAt: MODIFIED_AT,
    });
    this.#reads.set(message.channel, {
      path: message.path,
      data,
      sent: message.offset,
      acked: message.offset,
    });
    this.#pump(message.channel);
  }

  #ack(channel: number, offset: number): void {
    const read = this.#reads.get(channel);
    if (!read) return;
    read.acked = Math.max(read.acked, offset);
    this.#pump(channel);
  }

  #pump(channel: number): void {
    const read = this.#reads.get(channel);
    if (!read) return;
    while (read.sent < read.data.byteLength && read.sent - read.acked < FILE_WINDOW_BYTES) {
      const length = Math.min(
        FILE_CHUNK_BYTES,
        read.data.byteLength - read.sent,
        read.acked + FILE_WINDOW_BYTES - read.sent,
      );
      const offset = read.sent;
      this.#peer.sendRaw(
        encodeFileChunk({ channel, offset, data: read.data.subarray(offset, offset + length) }),
      );
      read.sent += length;
      this.onChunkSent?.(read.path, read.sent);
      if (!this.#reads.has(channel)) return;
    }
    if (read.sent >= read.data.byteLength) {
      this.#reads.delete(channel);
      this.#send({
        type: 'file-end',
        channel,
        size: read.data.byteLength,
        sha256: createHash('sha256').update(read.data).digest('hex'),
      });
    }
  }

  #write(message: MessageOf<'file-write'>) {
    const existing = this.find(message.path);
    if (existing && !(existing instanceof Uint8Array)) return this.#error(message.channel, 'NOT_A_FILE');
    if (existing && !message.overwrite) return this.#error(message.channel, 'FILE_EXISTS', 'It exists.');
    const part = this.parts.get(message.path) ?? new Uint8Array(0);
    const start = part.byteLength <= message.size ? part.byteLength : 0;
    const kept = part.subarray(0, start);
    this.#writes.set(message.channel, {
      path: message.path,
      size: message.size,
      chunks: [kept],
      received: start,
      acked: start,
    });
    this.#send({ type: 'file-ready', channel: message.channel, offset: start });
  }

  #onFrame(frame: FileChunkFrame | ShellDataFrame) {
    if (frame.kind !== 'file') return;
    const write = this.#writes.get(frame.channel);
    if (!write) return;
    if (frame.offset !== write.received) {
      this.#writes.delete(frame.channel);
      return this.#error(frame.channel, 'IO_ERROR', `chunk at ${frame.offset}, expected ${write.received}`);
    }
    write.chunks.push(frame.data);
    write.received += frame.data.byteLength;
    this.parts.set(write.path, Buffer.concat(write.chunks));
    if (write.received > this.ackLimit) return;
    if (write.received - write.acked >= FILE_ACK_EVERY_BYTES || write.received === write.size) {
      write.acked = write.received;
      const ack: ControlMessage = { type: 'file-ack', channel: frame.channel, offset: write.received };
      if (this.ackDelayMs > 0) setTimeout(() => this.#send(ack), this.ackDelayMs);
      else this.#send(ack);
    }
  }

  #end(message: MessageOf<'file-end'>) {
    const write = this.#writes.get(message.channel);
    if (!write) return;
    this.#writes.delete(message.channel);
    const data = Buffer.concat(write.chunks);
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (data.byteLength !== message.size || sha256 !== message.sha256) {
      this.parts.delete(write.path);
      return this.#error(message.channel, 'CHECKSUM_MISMATCH');
    }
    this.parts.delete(write.path);
    this.#store(write.path, new Uint8Array(data));
    this.#send({ type: 'file-done', channel: message.channel, path: write.path, size: data.byteLength });
  }

  #op(message: MessageOf<'file-op'>) {
    const parentOf = (path: string) => {
      const parts = path.split('/').filter(Boolean);
      const name = parts.pop() ?? '';
      const parent = this.find(parts.join('/'));
      return parent && !(parent instanceof Uint8Array) ? { parent, name } : undefined;
    };
    if (message.path.includes('..') || message.to?.includes('..'))
      return this.#error(message.channel, 'PATH_OUTSIDE_FOLDER');
    const from = parentOf(message.path);
    if (!from) return this.#error(message.channel, 'FILE_NOT_FOUND');
    if (message.op === 'mkdir') {
      if (from.parent[from.name]) return this.#error(message.channel, 'FILE_EXISTS');
      from.parent[from.name] = {};
    } else if (message.op === 'delete') {
      const target = from.parent[from.name];
      if (!target) return this.#error(message.channel, 'FILE_NOT_FOUND');
      if (!(target instanceof Uint8Array) && Object.keys(target).length > 0)
        return this.#error(message.channel, 'IO_ERROR', 'ENOTEMPTY: directory not empty');
      delete from.parent[from.name];
    } else {
      const to = message.to ? parentOf(message.to) : undefined;
      const target = from.parent[from.name];
      if (!to || !target) return this.#error(message.channel, 'FILE_NOT_FOUND');
      if (to.parent[to.name]) return this.#error(message.channel, 'FILE_EXISTS');
      delete from.parent[from.name];
      to.parent[to.name] = target;
    }
    this.#send({ type: 'file-op-done', channel: message.channel });
  }

  #store(path: string, data: Uint8Array): void {
    const parts = path.split('/').filter(Boolean);
    const name = parts.pop() ?? '';
    const parent = this.find(parts.join('/'));
    if (parent && !(parent instanceof Uint8Array)) parent[name] = data;
  }
}

/**
 * The baseline for file transfers, in its own process like the agent: a plain loopback WebSocket
 * server (ws) that serves files under LIFELINE_BENCH_FILES_ROOT with the same messages, chunk size,
 * window and acknowledgements as the agent, and nothing else: no relay, no agent core. Downloads
 * are read from disk in FILE_CHUNK_BYTES chunks and hashed as they are read; uploads are written to
 * a part file, hashed as they are written, checked and renamed.
 *
 * IPC: sends `{ type: 'ready', url }`; stops on `{ type: 'stop' }`.
 */
import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open, rename } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  type ControlMessage,
  decodeFrame,
  encodeControl,
  encodeFileChunk,
  FILE_ACK_EVERY_BYTES,
  FILE_CHUNK_BYTES,
  FILE_WINDOW_BYTES,
  type MessageOf,
} from '../../protocol/index.ts';

const root = process.env['LIFELINE_BENCH_FILES_ROOT'];
if (!root) throw new Error('LIFELINE_BENCH_FILES_ROOT must be set');

/** A download in progress: how far the reader acknowledged, and who waits for the next ack. */
interface Reading {
  acked: number;
  wake: (() => void) | undefined;
}

/** An upload in progress. */
interface Writing {
  handle: FileHandle;
  /** The wire path, for file-done. */
  path: string;
  part: string;
  target: string;
  size: number;
  hash: Hash;
  received: number;
  written: number;
  acked: number;
  writes: Promise<void>;
}

function serve(socket: WebSocket): void {
  const readings = new Map<number, Reading>();
  const writings = new Map<number, Writing>();
  const send = (message: ControlMessage) => socket.send(encodeControl(message));
  const fail = (channel: number, error: unknown) =>
    send({ type: 'channel-error', channel, code: 'IO_ERROR', message: String(error).slice(0, 900) });

  async function read(request: MessageOf<'file-read'>): Promise<void> {
    const reading: Reading = { acked: 0, wake: undefined };
    readings.set(request.channel, reading);
    const handle = await open(join(root!, request.path), 'r');
    try {
      const { size, mtimeMs } = await handle.stat();
      send({ type: 'file-info', channel: request.channel, path: request.path, size, modifiedAt: mtimeMs });
      const hash = createHash('sha256');
      let sent = 0;
      while (sent < size) {
        if (sent - reading.acked >= FILE_WINDOW_BYTES) {
          await new Promise<void>((resolve) => {
            reading.wake = resolve;
          });
          continue;
        }
        const length = Math.min(FILE_CHUNK_BYTES, size - sent, reading.acked + FILE_WINDOW_BYTES - sent);
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buffer, 0, length, sent);
        if (bytesRead === 0) break;
        const data = buffer.subarray(0, bytesRead);
        hash.update(data);
        socket.send(encodeFileChunk({ channel: request.channel, offset: sent, data }));
        sent += bytesRead;
      }
      send({ type: 'file-end', channel: request.channel, size: sent, sha256: hash.digest('hex') });
    } finally {
      readings.delete(request.channel);
      await handle.close();
    }
  }

  async function write(request: MessageOf<'file-write'>): Promise<void> {
    const target = join(root!, request.path);
    const part = `${target}.lifeline-part`;
    const handle = await open(part, 'w');
    writings.set(request.channel, {
      handle,
      path: request.path,
      part,
      target,
      size: request.size,
      hash: createHash('sha256'),
      received: 0,
      written: 0,
      acked: 0,
      writes: Promise.resolve(),
    });
    send({ type: 'file-ready', channel: request.channel, offset: 0 });
  }

  function chunk(channel: number, offset: number, data: Uint8Array): void {
    const writing = writings.get(channel);
    if (!writing || offset !== writing.received) {
      fail(channel, `a chunk at ${offset}, expected ${writing?.received}`);
      return;
    }
    writing.received += data.byteLength;
    writing.writes = writing.writes.then(async () => {
      await writing.handle.write(data, 0, data.byteLength, offset);
      writing.hash.update(data);
      writing.written += data.byteLength;
      if (writing.written - writing.acked >= FILE_ACK_EVERY_BYTES || writing.written === writing.size) {
        writing.acked = writing.written;
        send({ type: 'file-ack', channel, offset: writing.acked });
      }
    });
  }

  async function end(message: MessageOf<'file-end'>): Promise<void> {
    const writing = writings.get(message.channel);
    if (!writing) return;
    writings.delete(message.channel);
    await writing.writes;
    await writing.handle.close();
    if (writing.written !== message.size || writing.hash.digest('hex') !== message.sha256) {
      send({
        type: 'channel-error',
        channel: message.channel,
        code: 'CHECKSUM_MISMATCH',
        message: 'mismatch',
      });
      return;
    }
    await rename(writing.part, writing.target);
    send({ type: 'file-done', channel: message.channel, path: writing.path, size: message.size });
  }

  socket.on('message', (data: Buffer) => {
    const decoded = decodeFrame(data);
    if (!decoded.ok) return;
    const frame = decoded.frame;
    if (frame.kind === 'file') {
      chunk(frame.channel, frame.offset, frame.data);
      return;
    }
    if (frame.kind !== 'control') return;
    const message = frame.message;
    switch (message.type) {
      case 'file-read':
        read(message).catch((error: unknown) => fail(message.channel, error));
        return;
      case 'file-write':
        write(message).catch((error: unknown) => fail(message.channel, error));
        return;
      case 'file-ack': {
        const reading = readings.get(message.channel);
        if (!reading) return;
        reading.acked = Math.max(reading.acked, message.offset);
        reading.wake?.();
        reading.wake = undefined;
        return;
      }
      case 'file-end':
        end(message).catch((error: unknown) => fail(message.channel, error));
        return;
      default:
    }
  });
}

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await new Promise<void>((resolve) => server.once('listening', () => resolve()));
server.on('connection', serve);

function stop(): void {
  for (const client of server.clients) client.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
}
process.on('message', (message: { type?: string }) => {
  if (message.type === 'stop') stop();
});
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.send?.({ type: 'ready', url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` });

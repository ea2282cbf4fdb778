import { createHash } from 'node:crypto';
import {
  encodeFileChunk,
  FILE_ACK_EVERY_BYTES,
  FILE_CHUNK_BYTES,
  FILE_WINDOW_BYTES,
} from '../../protocol/index.ts';
import { BenchFailure } from '../support/failure.ts';
import { ChannelCall } from './channel-call.ts';
import type { OperatorClient } from './operator-client.ts';

/** One file moved end to end. */
export interface Transfer {
  bytes: number;
  /** From the request to the last answer (file-end for a download, file-done for an upload). */
  seconds: number;
}

/**
 * Downloads `path` as an operator does (`file-read`, chunks, `file-end`), acknowledging every
 * FILE_ACK_EVERY_BYTES and at the end, and checks every chunk's offset and the whole file's SHA-256
 * against both the sender's and `expectedSha256`. A corrupt or short file is a `BenchFailure`.
 *
 * @param onProgress called with the bytes received so far after each chunk.
 */
export async function download(
  client: OperatorClient,
  path: string,
  expectedSha256: string,
  onProgress?: (bytes: number) => void,
): Promise<Transfer> {
  const hash = createHash('sha256');
  let size: number | undefined;
  let received = 0;
  let acked = 0;
  const started = performance.now();
  const call = new ChannelCall<Transfer>(client, `download of ${path}`, {
    control(message, call) {
      if (message.type === 'file-info') {
        size = message.size;
        return;
      }
      if (message.type !== 'file-end') return;
      const seconds = (performance.now() - started) / 1000;
      const digest = hash.digest('hex');
      if (message.size !== received || size !== received) {
        call.fail(
          new BenchFailure(`download of ${path}: ${received} bytes arrived, the sender announced ${size}`),
        );
      } else if (digest !== message.sha256 || digest !== expectedSha256) {
        call.fail(new BenchFailure(`download of ${path}: the bytes that arrived are corrupt (SHA-256)`));
      } else {
        call.done({ bytes: received, seconds });
      }
    },
    frame(frame, call) {
      if (frame.kind !== 'file') return;
      if (size === undefined || frame.offset !== received) {
        call.fail(new BenchFailure(`download of ${path}: a chunk at ${frame.offset}, expected ${received}`));
        return;
      }
      hash.update(frame.data);
      received += frame.data.byteLength;
      if (received - acked >= FILE_ACK_EVERY_BYTES || received === size) {
        acked = received;
        client.send({ type: 'file-ack', channel: call.channel, offset: acked });
      }
      onProgress?.(received);
    },
  });
  client.send({ type: 'file-read', channel: call.channel, path, offset: 0 });
  return call.result;
}

/**
 * Uploads `data` to `path` as an operator does (`file-write`, `file-ready`, chunks of
 * FILE_CHUNK_BYTES never more than FILE_WINDOW_BYTES beyond the receiver's last `file-ack`,
 * `file-end` with the SHA-256), and resolves on `file-done`. The receiver checks the hash.
 */
export async function upload(
  client: OperatorClient,
  path: string,
  data: Uint8Array,
  sha256: string,
): Promise<Transfer> {
  let sent = 0;
  let acked = 0;
  let ready = false;
  let ended = false;
  const started = performance.now();
  const pump = (call: ChannelCall<Transfer>) => {
    while (ready && sent < data.byteLength && sent - acked < FILE_WINDOW_BYTES) {
      const length = Math.min(FILE_CHUNK_BYTES, data.byteLength - sent, acked + FILE_WINDOW_BYTES - sent);
      client.sendBytes(
        encodeFileChunk({ channel: call.channel, offset: sent, data: data.subarray(sent, sent + length) }),
      );
      sent += length;
    }
    if (ready && sent === data.byteLength && !ended) {
      ended = true;
      client.send({ type: 'file-end', channel: call.channel, size: data.byteLength, sha256 });
    }
  };
  const call = new ChannelCall<Transfer>(client, `upload of ${path}`, {
    control(message, call) {
      if (message.type === 'file-ready') {
        if (message.offset !== 0) {
          call.fail(new BenchFailure(`upload of ${path}: the receiver resumes at ${message.offset}, not 0`));
          return;
        }
        ready = true;
        pump(call);
      } else if (message.type === 'file-ack') {
        acked = Math.max(acked, message.offset);
        pump(call);
      } else if (message.type === 'file-done') {
        const seconds = (performance.now() - started) / 1000;
        if (message.size !== data.byteLength || sent !== data.byteLength) {
          call.fail(
            new BenchFailure(`upload of ${path}: stored ${message.size} of ${data.byteLength} bytes`),
          );
        } else {
          call.done({ bytes: data.byteLength, seconds });
        }
      }
    },
  });
  client.send({ type: 'file-write', channel: call.channel, path, size: data.byteLength, overwrite: true });
  return call.result;
}

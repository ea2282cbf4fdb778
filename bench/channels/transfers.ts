import { createHash } from 'node:crypto';
import { FileReceiver, FileSender, isTransferError } from '../../protocol/peer/transfer.ts';
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
 * Downloads `path` as an operator does (`file-read`, chunks, `file-end`) with the shared
 * {@link FileReceiver}: acknowledging every FILE_ACK_EVERY_BYTES and at the end, checking every
 * chunk's offset and the whole file's SHA-256 against both the sender's and `expectedSha256`. A
 * corrupt or short file is a `BenchFailure`.
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
  const started = performance.now();
  let receiver: FileReceiver | undefined;
  const call = new ChannelCall<Transfer>(client, `download of ${path}`, {
    control(message, call) {
      if (message.type === 'file-info') {
        if (receiver) receiver.size = message.size;
        return;
      }
      if (message.type !== 'file-end' || !receiver) return;
      const seconds = (performance.now() - started) / 1000;
      const digest = hash.digest('hex');
      try {
        receiver.verify(message, digest);
      } catch (error) {
        call.fail(new BenchFailure(`download of ${path}: ${describe(error)}`));
        return;
      }
      if (digest !== expectedSha256) {
        call.fail(new BenchFailure(`download of ${path}: the bytes that arrived are corrupt (SHA-256)`));
      } else {
        call.done({ bytes: receiver.received, seconds });
      }
    },
    frame(frame, call) {
      if (frame.kind !== 'file' || !receiver) return;
      try {
        receiver.accept(frame);
      } catch (error) {
        call.fail(new BenchFailure(`download of ${path}: ${describe(error)}`));
        return;
      }
      receiver.credit();
      onProgress?.(receiver.received);
    },
  });
  receiver = new FileReceiver({ link: client, channel: call.channel, start: 0, hasher: hash });
  client.send({ type: 'file-read', channel: call.channel, path, offset: 0 });
  return call.result;
}

/**
 * Uploads `data` to `path` as an operator does (`file-write`, `file-ready`, then the shared
 * {@link FileSender}: chunks never more than FILE_WINDOW_BYTES beyond the receiver's last
 * `file-ack`, `file-end` with the SHA-256), and resolves on `file-done`. The receiver checks the hash.
 */
export async function upload(
  client: OperatorClient,
  path: string,
  data: Uint8Array,
  sha256: string,
): Promise<Transfer> {
  let sender: FileSender | undefined;
  const started = performance.now();
  const call = new ChannelCall<Transfer>(client, `upload of ${path}`, {
    control(message, call) {
      if (message.type === 'file-ready') {
        if (message.offset !== 0) {
          call.fail(new BenchFailure(`upload of ${path}: the receiver resumes at ${message.offset}, not 0`));
          return;
        }
        const running = new FileSender({
          link: client,
          channel: call.channel,
          size: data.byteLength,
          start: 0,
          source: { read: async (offset, length) => data.subarray(offset, offset + length) },
        });
        sender = running;
        running.run().then(
          () => running.end(sha256),
          (error: unknown) => call.fail(new BenchFailure(`upload of ${path}: ${describe(error)}`)),
        );
      } else if (message.type === 'file-ack') {
        sender?.ack(message.offset);
      } else if (message.type === 'file-done') {
        const seconds = (performance.now() - started) / 1000;
        if (message.size !== data.byteLength || sender?.window.sentOffset !== data.byteLength) {
          call.fail(
            new BenchFailure(`upload of ${path}: stored ${message.size} of ${data.byteLength} bytes`),
          );
        } else {
          call.done({ bytes: data.byteLength, seconds });
        }
      }
    },
  });
  // The call ends however it ends; a sender still waiting for room stops with it.
  call.result.finally(() => sender?.stop()).catch(() => {});
  client.send({ type: 'file-write', channel: call.channel, path, size: data.byteLength, overwrite: true });
  return call.result;
}

function describe(error: unknown): string {
  return isTransferError(error) ? error.message : String(error);
}

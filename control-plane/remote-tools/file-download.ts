import { createHash } from 'node:crypto';
import type { MessageOf } from '../../protocol/index.ts';
import { FileReceiver, isTransferError, Watchdog } from '../../protocol/peer/transfer.ts';
import type { ApiParticipant } from './api-participant.ts';
import { ChannelFailure } from './channel-failure.ts';
import { REQUEST_TIMEOUT_MS } from './channel-request.ts';

export interface Download {
  info: MessageOf<'file-info'>;
  /** Where the bytes start (a resumed download starts past 0). */
  offset: number;
  /** The bytes from `offset` to the end. It errors (and the HTTP response is cut) if the file is not what the agent announced. */
  body: ReadableStream<Uint8Array>;
}

/** The requested start lies at or past the end of the file. */
export class RangeNotSatisfiable extends Error {
  override readonly name = 'RangeNotSatisfiable';
  constructor(readonly info: MessageOf<'file-info'>) {
    super(`The file has ${info.size} bytes.`);
  }
}

/**
 * Reads a file from the agent as a stream for an HTTP response. Flow control follows the reader: a
 * chunk is acknowledged to the agent only once the response has taken it, so a slow HTTP client
 * slows the agent down instead of filling the server's memory (at most FILE_WINDOW_BYTES wait here).
 *
 * The last chunk is held back until the agent's `file-end` arrives and, for a whole-file download,
 * its SHA-256 matches what was received: on a mismatch (or any failure) `abortResponse` cuts the
 * connection before the response is complete, so the client sees a cut transfer instead of saving
 * a corrupt file. A resumed download
 * (offset > 0) cannot be checked here, as the hash covers bytes this response never saw.
 *
 * A transfer that makes no progress for `idleMs` (the client reads nothing, or the agent sends
 * nothing) is given up: the agent's channel is closed and the response cut.
 *
 * `finished` runs once when the transfer ends, however it ends.
 */
export async function startDownload(
  participant: ApiParticipant,
  path: string,
  offset: number,
  idleMs: number,
  signal: AbortSignal,
  finished: () => void,
  abortResponse?: () => void,
): Promise<Download> {
  const queue: Uint8Array[] = [];
  let delivered = 0;
  let info: MessageOf<'file-info'> | undefined;
  let ended = false;
  let failure: ChannelFailure | undefined;
  let wake: (() => void) | undefined;
  let receiver: FileReceiver | undefined;
  let infoArrived: (value: MessageOf<'file-info'> | ChannelFailure) => void = () => {};

  const total = () => (info ? info.size - offset : 0);
  const poke = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const fail = (reason: ChannelFailure) => {
    if (failure || ended) return;
    failure = reason;
    infoArrived(reason);
    poke();
  };

  const channel = participant.open({
    message: (message) => {
      switch (message.type) {
        case 'file-info':
          info = message;
          if (receiver) receiver.size = message.size;
          infoArrived(message);
          return;
        case 'file-end': {
          const problem = endProblem(message);
          if (problem) fail(problem);
          else {
            ended = true;
            poke();
          }
          return;
        }
        case 'channel-error':
          fail(new ChannelFailure(message.code, message.message));
          return;
        case 'channel-close':
          fail(new ChannelFailure('IO_ERROR', 'The agent stopped sending the file.'));
          return;
        default:
      }
    },
    data: (frame) => {
      if (frame.kind !== 'file' || failure || !receiver) return;
      try {
        queue.push(receiver.accept(frame));
      } catch (error) {
        violation(
          isTransferError(error, 'past-window')
            ? 'ignored the flow-control window'
            : 'sent bytes out of order or past the end of the file',
        );
        return;
      }
      progressed();
      // Everything is here: say so, as the contract asks, even though the last chunk is still held.
      if (receiver.complete) receiver.credit();
      poke();
    },
    lost: fail,
  });

  // The whole file's hash can be checked only when this response carries the whole file.
  receiver = new FileReceiver({
    link: participant,
    channel,
    start: offset,
    hasher: offset === 0 ? createHash('sha256') : undefined,
  });

  function violation(what: string): void {
    participant.close(channel);
    fail(new ChannelFailure('MALFORMED', `The agent ${what}.`));
  }

  /** What is wrong with the agent's `file-end`, if anything: the size or the checksum. */
  function endProblem(end: MessageOf<'file-end'>): ChannelFailure | undefined {
    try {
      receiver?.verify(end);
      return undefined;
    } catch (error) {
      if (isTransferError(error, 'checksum')) {
        return new ChannelFailure(
          'CHECKSUM_MISMATCH',
          'The bytes received do not match the checksum the agent sent.',
        );
      }
      return new ChannelFailure(
        'CHECKSUM_MISMATCH',
        `The file changed while it was read (${end.size} bytes, not ${info?.size ?? 'known'}).`,
      );
    }
  }

  let done = false;
  /** Restarted whenever bytes come from the agent or the response takes some. */
  const idle = new Watchdog(idleMs, () => {
    participant.close(channel);
    fail(new ChannelFailure('TIMEOUT', `The download made no progress for ${idleMs / 1000} s.`));
    finish();
    // A response the client stopped reading is never pulled again: cut it here.
    abortResponse?.();
  });
  const progressed = () => idle.kick();
  const finish = () => {
    if (done) return;
    done = true;
    idle.stop();
    signal.removeEventListener('abort', cancel);
    participant.release(channel);
    finished();
  };
  const cancel = () => {
    participant.close(channel);
    fail(new ChannelFailure('CONFLICT', 'The download was cancelled.'));
    finish();
  };

  const first = await new Promise<MessageOf<'file-info'> | ChannelFailure>((resolve) => {
    const timer = setTimeout(
      () => resolve(new ChannelFailure('TIMEOUT', 'The agent did not answer in time.')),
      REQUEST_TIMEOUT_MS,
    );
    infoArrived = (value) => {
      clearTimeout(timer);
      infoArrived = () => {};
      resolve(value);
    };
    signal.addEventListener('abort', cancel);
    participant.send({ type: 'file-read', channel, path, offset });
  });
  if (first instanceof ChannelFailure) {
    participant.close(channel);
    finish();
    throw first;
  }
  if (offset > 0 && offset >= first.size) {
    participant.close(channel);
    finish();
    throw new RangeNotSatisfiable(first);
  }

  progressed();
  const body = new ReadableStream<Uint8Array>(
    {
      pull: async (controller) => {
        progressed();
        for (;;) {
          if (failure) {
            finish();
            if (abortResponse) {
              // Cut the connection itself: an errored stream would have the HTTP server write its
              // error text into the body, which could complete the Content-Length with wrong bytes.
              abortResponse();
              controller.close();
            } else controller.error(failure);
            return;
          }
          const next = queue[0];
          const last = next !== undefined && delivered + next.byteLength === total();
          if (next && (!last || ended)) {
            queue.shift();
            delivered += next.byteLength;
            receiver?.credit(offset + delivered);
            controller.enqueue(next);
            if (delivered === total()) {
              finish();
              controller.close();
            }
            return;
          }
          if (!next && ended && delivered === total()) {
            finish();
            controller.close();
            return;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      },
      cancel: () => cancel(),
    },
    // Nothing is read ahead of the HTTP response: what it has not taken stays unacknowledged.
    { highWaterMark: 0 },
  );
  return { info: first, offset, body };
}

import type { FileChunkFrame, ShellDataFrame } from '../frames.ts';
import type { ControlMessage } from '../messages.ts';
import { RelayLinkError } from './link-error.ts';

/** How long a request waits for the peer's answer unless told otherwise, in milliseconds. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** A control message that belongs to a channel (shell, command, file transfer, listing). */
export type ChannelMessage = Extract<ControlMessage, { channel: number }>;

/** Bytes on a channel: part of a file, or shell output. */
export type ChannelFrame = FileChunkFrame | ShellDataFrame;

/** Whether a control message carries a channel id. */
export function isChannelMessage(message: ControlMessage): message is ChannelMessage {
  return 'channel' in message && typeof message.channel === 'number';
}

/** Whatever opened a channel and handles what arrives on it. */
export interface ChannelOwner {
  onChannelMessage(message: ChannelMessage): void;
  onChannelFrame?(frame: ChannelFrame): void;
  /** The channel cannot go on: the connection it was opened on closed. Called once, then forgotten. */
  onChannelLost?(error: RelayLinkError): void;
}

/** What a request needs from a connection: channel ids routed to an owner, and a way to send. */
export interface RequestPort {
  /** A fresh channel id routed to `owner`; undefined when channels cannot be opened now. */
  open(owner: ChannelOwner): number | undefined;
  /** Stops routing `channel` and lets its id be used again. */
  release(channel: number): void;
  send(message: ControlMessage): boolean;
}

export interface RequestOptions {
  /** Default {@link REQUEST_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Aborting rejects with `aborted` and closes the channel on the peer. */
  signal?: AbortSignal;
  /** Bytes that arrive on the channel before the answer (a command's output). */
  onFrame?(frame: ChannelFrame): void;
}

/**
 * Sends one request on a fresh channel and resolves with the peer's answer: the first channel
 * message that `answer` maps to a value. Rejects with a {@link RelayLinkError}: `channel-error` (with
 * the peer's code), `channel-closed`, `timeout` and `aborted` (both also close the channel on the
 * peer), `closed` when the connection goes (the port calls `onChannelLost`), `not-connected`.
 * @example
 * const listing = await requestOnChannel(
 *   link,
 *   (channel) => ({ type: 'file-list', channel, path: '', offset: 0 }),
 *   (message) => (message.type === 'file-listing' ? message : undefined),
 * );
 */
export function requestOnChannel<T>(
  port: RequestPort,
  request: (channel: number) => ControlMessage,
  answer: (message: ChannelMessage) => T | undefined,
  options: RequestOptions = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (channel: number, outcome: () => void, closeOnPeer = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      port.release(channel);
      // Tells the peer to stop working on a request nobody waits for any more.
      if (closeOnPeer) port.send({ type: 'channel-close', channel });
      outcome();
    };
    const channel = port.open({
      onChannelFrame: (frame) => options.onFrame?.(frame),
      onChannelMessage: (message) => {
        if (message.type === 'channel-error') {
          const error = new RelayLinkError('channel-error', message.message, message.code);
          settle(message.channel, () => reject(error));
          return;
        }
        if (message.type === 'channel-close') {
          const error = new RelayLinkError(
            'channel-closed',
            'The device closed the request without an answer.',
          );
          settle(message.channel, () => reject(error));
          return;
        }
        const result = answer(message);
        if (result !== undefined) settle(message.channel, () => resolve(result));
      },
      onChannelLost: (error) => settle(channelOf(), () => reject(error)),
    });
    const channelOf = () => channel ?? 0;
    if (channel === undefined) {
      reject(new RelayLinkError('not-connected', 'Not connected to the relay.'));
      return;
    }
    const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    const onAbort = () =>
      settle(channel, () => reject(new RelayLinkError('aborted', 'The request was cancelled.')), true);
    timer = setTimeout(() => {
      const error = new RelayLinkError(
        'timeout',
        `The device did not answer within ${Math.round(timeoutMs / 1000)} s.`,
      );
      settle(channel, () => reject(error), true);
    }, timeoutMs);
    options.signal?.addEventListener('abort', onAbort);
    if (options.signal?.aborted) onAbort();
    else if (!port.send(request(channel))) {
      settle(channel, () => reject(new RelayLinkError('not-connected', 'Not connected to the relay.')));
    }
  });
}

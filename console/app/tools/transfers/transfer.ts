import type { ControlMessage } from '../../../../protocol/index.ts';
import { channelErrorText } from '../channel-errors.ts';
import type { ChannelFrame, ChannelMessage, ChannelOwner, ChannelPort } from '../operator-channels.ts';
import { Store } from '../store.ts';
import { isTooFrequent, waitBeforeAgain } from '../too-frequent.ts';
import { etaSeconds, TransferMeter } from './transfer-meter.ts';

/** Progress is published at most this often, in ms; a chunk arrives far more often. */
const PROGRESS_INTERVAL_MS = 150;

export type TransferDirection = 'download' | 'upload';

/**
 * Where a transfer stands:
 * starting (asked the agent) → running → verifying (checking the SHA-256) → done, and
 * exists (an upload met a file of that name; the operator decides), interrupted (the connection
 * dropped; it resumes when it is back), paused (by the operator, until they resume it), failed,
 * cancelled; and for an upload the end user is asked
 * about: offered (waiting for their answer) → running, or refused (by the user).
 */
export type TransferStatus =
  | 'starting'
  | 'offered'
  | 'refused'
  | 'running'
  | 'verifying'
  | 'exists'
  | 'interrupted'
  | 'paused'
  | 'done'
  | 'failed'
  | 'cancelled';

export interface TransferState {
  /** Grows with every transfer of the page. */
  id: number;
  direction: TransferDirection;
  /** The file's name, for display. */
  name: string;
  /** Where it is in the shared folder. */
  path: string;
  /** In bytes; null until the agent said (downloads). */
  size: number | null;
  /** Bytes done: received (downloads) or acknowledged by the agent (uploads). */
  bytes: number;
  status: TransferStatus;
  /** Bytes per second over the last few seconds; null before there is enough to tell. */
  rate: number | null;
  /** Seconds left at that rate; null when unknown. */
  eta: number | null;
  error: string | null;
  /** Where the end user saved an upload they were asked about and accepted; null otherwise. */
  acceptedAs: string | null;
}

/** Statuses after which nothing happens unless the operator acts. */
export function isSettled(status: TransferStatus): boolean {
  return status === 'done' || status === 'failed' || status === 'cancelled' || status === 'refused';
}

/**
 * What downloads and uploads share: one channel at a time (a new one after every resume), the
 * progress meter, cancelling and the common failures. Subclasses send the request and handle
 * the answers.
 */
export abstract class Transfer extends Store<TransferState> implements ChannelOwner {
  protected readonly port: ChannelPort;
  protected channel: number | undefined;
  readonly #meter = new TransferMeter();
  #lastPublished = 0;
  /** Set while a request the relay turned away as too frequent waits to be sent again. */
  #again: AbortController | undefined;

  constructor(
    port: ChannelPort,
    initial: Omit<TransferState, 'bytes' | 'status' | 'rate' | 'eta' | 'error' | 'acceptedAs'>,
  ) {
    super({ ...initial, bytes: 0, status: 'starting', rate: null, eta: null, error: null, acceptedAs: null });
    this.port = port;
  }

  /** Sends the request for the transfer (again, after an interruption or a failure). */
  protected abstract request(channel: number): ControlMessage;

  abstract onChannelMessage(message: ChannelMessage): void;

  onChannelFrame?(frame: ChannelFrame): void;

  /** Asks the agent, on a fresh channel, to start or to continue from what already arrived. */
  start(): void {
    this.#stopWaiting();
    this.#closeChannel(false);
    const channel = this.port.open(this);
    if (channel === undefined) {
      this.update({ status: 'interrupted', error: null, rate: null, eta: null });
      return;
    }
    this.channel = channel;
    this.#meter.reset();
    this.update({ status: 'starting', error: null, rate: null, eta: null });
    this.port.send(this.request(channel));
  }

  /** The operator gave up: tells the agent to stop and forgets the channel. */
  cancel(): void {
    if (isSettled(this.state.status)) return;
    this.#stopWaiting();
    this.#closeChannel(true);
    this.update({ status: 'cancelled', rate: null, eta: null });
  }

  /** The transfer leaves the list: anything it still holds is let go. */
  dispose(): void {
    this.#stopWaiting();
  }

  /** Stops a transfer under way with `reason` (the user took the permission back); Retry continues it. */
  abort(reason: string): void {
    if (isSettled(this.state.status)) return;
    this.fail(reason, true);
  }

  /**
   * The operator pauses: the agent is told to stop, and what arrived (a download's bytes, an
   * upload's part file on the device) stays for {@link proceed}, which continues from there.
   */
  hold(): void {
    const { status } = this.state;
    if (status !== 'starting' && status !== 'running' && status !== 'interrupted') return;
    this.#stopWaiting();
    this.#closeChannel(true);
    this.update({ status: 'paused', rate: null, eta: null });
  }

  /** Continues a transfer the operator paused, from the offset already written. */
  proceed(): void {
    if (this.state.status === 'paused') this.start();
  }

  /** The relay or the agent went away: the channel is gone; {@link resume} continues later. */
  interrupt(): void {
    const { status } = this.state;
    if (isSettled(status) || status === 'exists' || status === 'paused') return;
    this.#stopWaiting();
    const channel = this.channel;
    if (channel !== undefined) {
      this.channel = undefined;
      this.port.abandon(channel);
      this.channelGone();
    }
    this.update({ status: 'interrupted', rate: null, eta: null });
  }

  /** Continues an interrupted transfer from where it stopped. */
  resume(): void {
    if (this.state.status === 'interrupted') this.start();
  }

  /** Tries a failed transfer again, from where it stopped when that is still valid. */
  retry(): void {
    if (this.state.status === 'failed' || this.state.status === 'interrupted') this.start();
  }

  /** Publishes the bytes done; at most every {@link PROGRESS_INTERVAL_MS} unless `now` is set. */
  protected progress(bytes: number, force = false): void {
    const at = performance.now();
    this.#meter.record(bytes, at);
    if (!force && at - this.#lastPublished < PROGRESS_INTERVAL_MS) return;
    this.#lastPublished = at;
    const rate = this.#meter.rate(at);
    const remaining = this.state.size === null ? 0 : this.state.size - bytes;
    this.update({ bytes, rate, eta: this.state.size === null ? null : etaSeconds(remaining, rate) });
  }

  protected fail(error: string, tellAgent = true): void {
    this.#stopWaiting();
    this.#closeChannel(tellAgent);
    this.update({ status: 'failed', error, rate: null, eta: null });
  }

  /** Forgets the channel the agent already closed and waits in `status` for the operator. */
  protected pause(status: TransferStatus): void {
    this.#closeChannel(false);
    this.update({ status, error: null, rate: null, eta: null });
  }

  protected finish(patch: Partial<TransferState> = {}): void {
    this.#closeChannel(false);
    this.update({ ...patch, status: 'done', rate: null, eta: 0, error: null });
  }

  /** The answers every transfer treats alike; returns true when it took the message. */
  protected common(message: ChannelMessage): boolean {
    if (isTooFrequent(message)) {
      this.#sendAgainShortly();
      return true;
    }
    if (message.type === 'channel-error') {
      this.fail(channelErrorText(message, 'files'), false);
      return true;
    }
    if (message.type === 'channel-close') {
      this.fail('The device stopped the transfer.', false);
      return true;
    }
    return false;
  }

  /** The current channel is gone (closed, failed, interrupted): work for it stops. */
  protected channelGone(): void {}

  protected isCurrent(channel: number): boolean {
    return channel === this.channel;
  }

  /**
   * The relay turned the request away for coming too fast (it never reached the device, so there is
   * nothing to tell it): the same request goes again on a fresh channel after a pause, as a whole
   * action's requests do (too-frequent.ts). Cancelling, pausing or an interruption meanwhile stops it.
   */
  #sendAgainShortly(): void {
    this.#closeChannel(false);
    const again = new AbortController();
    this.#again = again;
    waitBeforeAgain(again.signal).then(
      () => {
        if (this.#again === again) this.start();
      },
      () => {},
    );
  }

  #stopWaiting(): void {
    this.#again?.abort();
    this.#again = undefined;
  }

  #closeChannel(tellAgent: boolean): void {
    const channel = this.channel;
    if (channel === undefined) return;
    this.channel = undefined;
    if (tellAgent) this.port.send({ type: 'channel-close', channel });
    this.port.release(channel);
    this.channelGone();
  }
}

import { type ControlMessage, isRelayLinkError, type RequestOptions } from '../../../../protocol/index.ts';
import { requestFailureText } from '../channel-errors.ts';
import type { ChannelMessage, ChannelPort } from '../operator-channels.ts';
import { Store } from '../store.ts';
import { isTooFrequent, waitBeforeAgain } from '../too-frequent.ts';
import { isSettled, type Transfer, type TransferState, type TransferStatus } from '../transfers/transfer.ts';

/** What a whole action does with the items the operator chose. */
export type ActionKind = 'download' | 'upload' | 'delete' | 'copy' | 'move';

/**
 * Where a whole action stands: listing (walking the folders picked) → asking (it is larger than
 * the operator may expect; they decide) → running → done; paused (by the operator), interrupted
 * (the connection dropped; it resumes when it is back), failed, cancelled.
 */
export type ActionStatus =
  | 'listing'
  | 'asking'
  | 'running'
  | 'paused'
  | 'interrupted'
  | 'done'
  | 'failed'
  | 'cancelled';

/** A question the action waits on, with what answering yes does. */
export interface ActionQuestion {
  text: string;
  yes: string;
  /** What answering no does: `Cancel` ends the action, anything else (`Skip`) goes on without. */
  no: string;
}

export interface ActionState {
  /** Shares the transfers' numbering, so ids are unique in the list. */
  id: number;
  kind: ActionKind;
  /** What the action is about: a zip's name, "3 items", a folder's name. */
  title: string;
  status: ActionStatus;
  /** Files (or, for changes, items) finished. */
  filesDone: number;
  /** Null until the folders picked were walked. */
  filesTotal: number | null;
  bytesDone: number;
  /** Null for changes, which move no bytes through the console. */
  bytesTotal: number | null;
  /** The path being worked on. */
  current: string | null;
  /** What the transfer of the current file is doing (waiting for the user to accept it, verifying). */
  step: TransferStatus | null;
  question: ActionQuestion | null;
  error: string | null;
  /** What was left out and why (links not followed, files the user refused). */
  notes: string[];
}

/** How a whole action asks the agent: a {@link ChannelPort} request that outlives a dropped connection. */
export interface ActionRequestOptions<T> extends RequestOptions {
  /**
   * Reads the failure of a request sent again because the connection dropped before its answer:
   * the device may have done it already (a delete then finds nothing). A value counts it done.
   */
  repeated?(error: unknown): T | undefined;
}

export interface ActionRequests {
  request<T>(
    request: (channel: number) => ControlMessage,
    answer: (message: ChannelMessage) => T | undefined,
    options?: ActionRequestOptions<T>,
  ): Promise<T>;
}

/** Statuses after which nothing happens any more. */
export function isActionOver(status: ActionStatus): boolean {
  return status === 'done' || status === 'failed' || status === 'cancelled';
}

/** Stops an action with a sentence for the operator that names the item at fault. */
export class ActionStopped extends Error {
  override readonly name = 'ActionStopped';
}

/**
 * One action on many files with one progress (README "Files"): a zip of a folder or several
 * items, an upload of a folder or several files, deleting, copying or moving several items.
 * Subclasses say what to do in {@link run}; this keeps the count, the bytes, the file being worked
 * on, the question asked before a large action, and passes Pause, Resume and Cancel to the
 * transfer of the current file.
 * @example
 * const action = new ZipDownload(port, 7, picked, saver, 'photos.zip');
 * action.start();
 * action.subscribe((state) => render(state.filesDone, state.filesTotal));
 */
export abstract class WholeAction extends Store<ActionState> {
  protected readonly port: ChannelPort;
  readonly #stop = new AbortController();
  /** The transfer of the file being worked on. */
  #transfer: Transfer | undefined;
  #answer: ((yes: boolean) => void) | undefined;
  /** Bytes of the files already finished. */
  #finishedBytes = 0;
  /** The connection dropped and is not back: requests wait for {@link resume}. */
  #offline = false;
  /** Aborts the request under way when the connection drops, so it is sent again once it is back. */
  #attempt: AbortController | undefined;
  /** Requests waiting for the connection to come back. */
  #waiting: (() => void)[] = [];
  /**
   * The agent's requests for what the action lists and changes, through a dropped connection: a
   * request under way when the connection drops, or made while it is down, waits until it is back
   * and is sent again (README "Files", "A dropped connection").
   */
  protected readonly requests: ActionRequests = {
    request: (request, answer, options) => this.#request(request, answer, options),
  };

  constructor(port: ChannelPort, initial: Pick<ActionState, 'id' | 'kind' | 'title'>) {
    super({
      ...initial,
      status: 'listing',
      filesDone: 0,
      filesTotal: null,
      bytesDone: 0,
      bytesTotal: null,
      current: null,
      step: null,
      question: null,
      error: null,
      notes: [],
    });
    this.port = port;
  }

  /** Does the whole action; throws an {@link ActionStopped} (or a relay error) to stop it. */
  protected abstract run(signal: AbortSignal): Promise<void>;

  /** The action is over (done, failed or cancelled): anything it holds is let go. */
  protected ended(): void {}

  start(): void {
    this.run(this.#stop.signal).then(
      () => this.#end({ status: 'done' }),
      (error: unknown) => {
        if (isActionOver(this.state.status)) return;
        if (error instanceof ActionStopped) this.#end({ status: 'failed', error: error.message });
        else if (isRelayLinkError(error, 'aborted') || this.#stop.signal.aborted)
          this.#end({ status: 'cancelled' });
        else
          this.#end({
            status: 'failed',
            error: requestFailureText(error, 'The device stopped before it was done.'),
          });
      },
    );
  }

  /** The operator answers the question the action waits on. */
  answer(yes: boolean): void {
    const answer = this.#answer;
    if (!answer) return;
    this.#answer = undefined;
    answer(yes);
  }

  cancel(): void {
    if (isActionOver(this.state.status)) return;
    this.#stop.abort();
    this.#transfer?.cancel();
    this.#answer?.(false);
    this.#answer = undefined;
    this.#end({ status: 'cancelled' });
  }

  /** Stops the action with `reason` (the user took the file permission back, the session ended). */
  abort(reason: string): void {
    if (isActionOver(this.state.status)) return;
    this.#stop.abort();
    this.#transfer?.abort(reason);
    this.#answer?.(false);
    this.#answer = undefined;
    this.#end({ status: 'failed', error: reason });
  }

  /** Pauses the transfer of the current file; {@link proceed} continues it from there. */
  hold(): void {
    this.#transfer?.hold();
  }

  proceed(): void {
    this.#transfer?.proceed();
  }

  /** The connection dropped: the current transfer, or the request under way, pauses until {@link resume}. */
  interrupt(): void {
    this.#transfer?.interrupt();
    if (isActionOver(this.state.status)) return;
    this.#offline = true;
    this.#attempt?.abort();
  }

  resume(): void {
    this.#transfer?.resume();
    if (!this.#offline) return;
    this.#offline = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }

  /** The action leaves the list. */
  dispose(): void {
    this.#transfer?.dispose();
  }

  /** One request, sent again (once connected) for as long as the connection drops under it. */
  async #request<T>(
    request: (channel: number) => ControlMessage,
    answer: (message: ChannelMessage) => T | undefined,
    options: ActionRequestOptions<T> = {},
  ): Promise<T> {
    const { repeated, ...rest } = options;
    for (let again = false; ; again = true) {
      await this.#online(rest.signal);
      const attempt = new AbortController();
      this.#attempt = attempt;
      const signal = rest.signal ? AbortSignal.any([rest.signal, attempt.signal]) : attempt.signal;
      try {
        return await this.port.request(request, answer, { ...rest, signal });
      } catch (error) {
        if (rest.signal?.aborted) throw error;
        // Dropped under way (aborted by interrupt) or refused for want of a connection: again once back.
        if (this.#offline || isRelayLinkError(error, 'closed', 'not-connected')) continue;
        // The relay turned it away for coming too fast (its per-connection budget): again shortly.
        if (isTooFrequent(error)) {
          await waitBeforeAgain(rest.signal);
          continue;
        }
        const done = again ? repeated?.(error) : undefined;
        if (done !== undefined) return done;
        throw error;
      } finally {
        if (this.#attempt === attempt) this.#attempt = undefined;
      }
    }
  }

  /** Resolves at once while connected, else once the connection is back; shows the pause meanwhile. */
  async #online(signal: AbortSignal | undefined): Promise<void> {
    if (!this.#offline) return;
    const before = this.state.status;
    this.update({ status: 'interrupted' });
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal?.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiting.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        if (signal?.aborted) onAbort();
      });
    } finally {
      if (this.state.status === 'interrupted') this.update({ status: before });
    }
  }

  /** Waits for the operator's answer; a cancel answers no. */
  protected ask(question: ActionQuestion): Promise<boolean> {
    this.update({ status: 'asking', question });
    return new Promise((resolve) => {
      this.#answer = (yes) => {
        this.update({ status: 'running', question: null });
        resolve(yes);
      };
    });
  }

  /**
   * Runs the transfer of one file as a step of the action (`begin` starts it) and resolves with its
   * state once it settles or, for an upload, meets a file of the same name.
   */
  protected runTransfer(
    transfer: Transfer,
    begin: () => void = () => transfer.start(),
  ): Promise<TransferState> {
    this.#transfer = transfer;
    this.update({ current: transfer.state.path, status: 'running' });
    return new Promise((resolve) => {
      const stop = transfer.subscribe((state) => {
        if (isActionOver(this.state.status)) {
          stop();
          return;
        }
        this.update({
          bytesDone: this.#finishedBytes + state.bytes,
          step: state.status,
          status:
            state.status === 'paused' ? 'paused' : state.status === 'interrupted' ? 'interrupted' : 'running',
        });
        if (isSettled(state.status) || state.status === 'exists') {
          stop();
          resolve(state);
        }
      });
      begin();
    });
  }

  /** One more file (or item) is finished, with `bytes` of it moved. */
  protected finished(bytes = 0): void {
    this.#transfer = undefined;
    this.#finishedBytes += bytes;
    this.update({ filesDone: this.state.filesDone + 1, bytesDone: this.#finishedBytes, step: null });
  }

  /** Notes what was left out, for the line under the progress. */
  protected note(text: string): void {
    this.update({ notes: [...this.state.notes, text] });
  }

  /** Publishes a change of the action's own progress. */
  protected set(patch: Partial<ActionState>): void {
    this.update(patch);
  }

  #end(patch: Partial<ActionState>): void {
    if (isActionOver(this.state.status)) return;
    this.#answer = undefined;
    this.update({
      ...patch,
      current: patch.status === 'failed' ? this.state.current : null,
      step: null,
      question: null,
    });
    this.ended();
  }
}

import type { ChannelPort } from '../operator-channels.ts';
import type { FileSaver } from '../saving/file-saver.ts';
import { joinPath, parentPath } from '../shared-paths.ts';
import { Store } from '../store.ts';
import { Download } from './download.ts';
import { isSettled, type Transfer, type TransferState } from './transfer.ts';
import { Upload } from './upload.ts';

export interface TransferListState {
  /** Newest last. */
  items: TransferState[];
}

/**
 * Every download and upload of the session view: starts them, passes on the operator's Cancel,
 * Retry and Replace, pauses them when the connection drops and resumes them when it is back.
 * @example
 * transfers.download('docs/report.pdf');
 * transfers.upload(file, 'docs');
 */
export class TransferList extends Store<TransferListState> {
  readonly #port: ChannelPort;
  readonly #saver: FileSaver;
  readonly #onStored: (folder: string) => void;
  readonly #transfers = new Map<number, Transfer>();
  #nextId = 1;

  /** `onStored` hears the folder an upload landed in, so a listing of it can refresh. */
  constructor(port: ChannelPort, saver: FileSaver, onStored: (folder: string) => void = () => {}) {
    super({ items: [] });
    this.#port = port;
    this.#saver = saver;
    this.#onStored = onStored;
  }

  download(path: string): number {
    return this.#add(new Download(this.#port, this.#nextId++, path, this.#saver));
  }

  /** Uploads `file` into `folder` under its own name. */
  upload(file: File, folder: string): number {
    return this.#add(new Upload(this.#port, this.#nextId++, file, joinPath(folder, file.name)));
  }

  cancel(id: number): void {
    this.#transfers.get(id)?.cancel();
  }

  /** Pauses a transfer under way; {@link proceed} continues it from where it stopped. */
  hold(id: number): void {
    this.#transfers.get(id)?.hold();
  }

  proceed(id: number): void {
    this.#transfers.get(id)?.proceed();
  }

  retry(id: number): void {
    this.#transfers.get(id)?.retry();
  }

  /** Answers an upload that met an existing file: replace it. */
  replace(id: number): void {
    const transfer = this.#transfers.get(id);
    if (transfer instanceof Upload) transfer.replace();
  }

  /** Takes a finished, failed or cancelled transfer off the list. */
  dismiss(id: number): void {
    const transfer = this.#transfers.get(id);
    if (!transfer || !(isSettled(transfer.state.status) || transfer.state.status === 'exists')) return;
    this.#transfers.delete(id);
    transfer.dispose();
    this.#publish();
  }

  /** Stops everything under way with `reason`; each can be retried later. */
  abortAll(reason: string): void {
    for (const transfer of this.#transfers.values()) transfer.abort(reason);
  }

  /** The connection dropped or the agent went away: everything under way pauses. */
  interruptAll(): void {
    for (const transfer of this.#transfers.values()) transfer.interrupt();
  }

  /** The connection and the agent are back: paused transfers continue where they stopped. */
  resumeAll(): void {
    for (const transfer of this.#transfers.values()) transfer.resume();
  }

  #add(transfer: Transfer): number {
    const id = transfer.state.id;
    this.#transfers.set(id, transfer);
    let status = transfer.state.status;
    transfer.subscribe((state) => {
      if (state.status === 'done' && status !== 'done' && state.direction === 'upload') {
        this.#onStored(parentPath(state.path));
      }
      status = state.status;
      this.#publish();
    });
    transfer.start();
    this.#publish();
    return id;
  }

  #publish(): void {
    this.update({ items: [...this.#transfers.values()].map((transfer) => transfer.state) });
  }
}

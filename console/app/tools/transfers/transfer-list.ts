import type { ChannelPort } from '../operator-channels.ts';
import type { FileSaver } from '../saving/file-saver.ts';
import { joinPath, parentPath } from '../shared-paths.ts';
import { WorkList } from '../work-list.ts';
import { Download } from './download.ts';
import { isSettled, type Transfer, type TransferState } from './transfer.ts';
import { Upload } from './upload.ts';

/**
 * Every download and upload of the session view: starts them, passes on the operator's Cancel,
 * Retry and Replace, pauses them when the connection drops and resumes them when it is back.
 * @example
 * transfers.download('docs/report.pdf');
 * transfers.upload(file, 'docs');
 */
export class TransferList extends WorkList<TransferState, Transfer> {
  readonly #port: ChannelPort;
  readonly #saver: FileSaver;
  readonly #onStored: (folder: string) => void;

  /** `onStored` hears the folder an upload landed in, so a listing of it can refresh. */
  constructor(port: ChannelPort, saver: FileSaver, onStored: (folder: string) => void = () => {}) {
    super();
    this.#port = port;
    this.#saver = saver;
    this.#onStored = onStored;
  }

  download(path: string): number {
    return this.#add(new Download(this.#port, this.nextId(), path, this.#saver));
  }

  /** Uploads `file` into `folder` under its own name. */
  upload(file: File, folder: string): number {
    return this.#add(new Upload(this.#port, this.nextId(), file, joinPath(folder, file.name)));
  }

  retry(id: number): void {
    this.item(id)?.retry();
  }

  /** Answers an upload that met an existing file: replace it. */
  replace(id: number): void {
    const transfer = this.item(id);
    if (transfer instanceof Upload) transfer.replace();
  }

  /** Over: finished, failed or cancelled, or an upload that met an existing file and was not replaced. */
  protected override isOver(state: TransferState): boolean {
    return isSettled(state.status) || state.status === 'exists';
  }

  /** Lists `transfer`; an upload that lands tells `onStored` its folder. */
  #add(transfer: Transfer): number {
    let status = transfer.state.status;
    return this.add(transfer, (state) => {
      if (state.status === 'done' && status !== 'done' && state.direction === 'upload') {
        this.#onStored(parentPath(state.path));
      }
      status = state.status;
    });
  }
}

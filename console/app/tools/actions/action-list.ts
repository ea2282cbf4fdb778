import type { ChannelPort } from '../operator-channels.ts';
import type { FileSaver } from '../saving/file-saver.ts';
import { WorkList } from '../work-list.ts';
import { ChangeAction } from './change-action.ts';
import type { WalkedEntry } from './file-walk.ts';
import { UploadAction, type UploadItem } from './upload-action.ts';
import { type ActionState, isActionOver, type WholeAction } from './whole-action.ts';
import { ZipDownload, zipNameFor } from './zip-download.ts';

/**
 * The file manager's whole actions (README "Files"): zips, uploads of several files or a folder,
 * and deletes, copies and moves of several items, each with one progress. Pauses them when the
 * connection drops and resumes them when it is back, like the single transfers.
 * @example
 * actions.zip(picked, 'docs', 'docs');
 * actions.change('delete', picked, 'docs');
 */
export class ActionList extends WorkList<ActionState, WholeAction> {
  readonly #port: ChannelPort;
  readonly #saver: FileSaver;
  readonly #onChanged: (folder: string) => void;

  /** `onChanged` hears each folder an action changed, so a listing of it can refresh. */
  constructor(port: ChannelPort, saver: FileSaver, onChanged: (folder: string) => void = () => {}) {
    super();
    this.#port = port;
    this.#saver = saver;
    this.#onChanged = onChanged;
  }

  /** Downloads what was picked in `folder` (named `folderName`) as one zip; call it inside the operator's click. */
  zip(picked: readonly WalkedEntry[], folder: string, folderName: string): number {
    const name = zipNameFor(picked, folderName);
    return this.add(new ZipDownload(this.#port, this.nextId(), picked, folder, this.#saver, name));
  }

  /** Uploads files (and empty `folders`) to their paths below `folder`. */
  upload(items: readonly UploadItem[], folders: readonly string[], folder: string): number {
    const tops = new Set([...items.map((item) => item.path), ...folders].map((path) => path.split('/')[0]));
    const title = tops.size === 1 ? [...tops][0]! : `${items.length} files`;
    return this.add(
      new UploadAction(this.#port, this.nextId(), items, folders, folder, title, this.#onChanged),
    );
  }

  /** Deletes what was picked, or copies or moves it into `into`. */
  change(kind: 'delete' | 'copy' | 'move', picked: readonly WalkedEntry[], into = ''): number {
    const title = picked.length === 1 ? (picked[0]!.path.split('/').at(-1) ?? '') : `${picked.length} items`;
    return this.add(new ChangeAction(this.#port, this.nextId(), kind, picked, into, title, this.#onChanged));
  }

  answer(id: number, yes: boolean): void {
    this.item(id)?.answer(yes);
  }

  protected override isOver(state: ActionState): boolean {
    return isActionOver(state.status);
  }
}

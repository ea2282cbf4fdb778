import { isRelayLinkError } from '../../../../protocol/index.ts';
import { requestFailureText } from '../channel-errors.ts';
import { copyName } from '../file-browser.ts';
import type { ChannelPort } from '../operator-channels.ts';
import { baseName, joinPath, parentPath } from '../shared-paths.ts';
import { type WalkedEntry, walkPicked } from './file-walk.ts';
import { ActionStopped, WholeAction } from './whole-action.ts';
import { ASK_ABOVE_FILES } from './zip-download.ts';

/**
 * Whether a change sent again after the connection dropped under it failed only because the device
 * made it before the drop: what was deleted or moved is not found, what was copied or moved is there.
 */
function doneBeforeDrop(op: 'delete' | 'copy' | 'rename', error: unknown): boolean {
  if (!isRelayLinkError(error, 'channel-error')) return false;
  if (error.code === 'FILE_NOT_FOUND') return op === 'delete' || op === 'rename';
  return error.code === 'FILE_EXISTS' && (op === 'copy' || op === 'rename');
}

/** Entries a delete walks at most; a larger tree is refused rather than listed for ever. */
export const MAX_DELETE_ENTRIES = 100_000;

/**
 * Deleting, copying or moving several items as one action with one progress (items done of all,
 * the item being changed, Cancel between two items). The agent deletes only files and empty
 * folders, so a delete walks the folders picked and deletes what they hold first, deepest first;
 * it asks before deleting more than ASK_ABOVE_FILES entries. The agent copies a folder with
 * everything in it, so a copy or a move is one request per item picked.
 * @example
 * new ChangeAction(port, 5, 'delete', picked, '', '3 items', onChanged).start();
 */
export class ChangeAction extends WholeAction {
  readonly #picked: readonly WalkedEntry[];
  /** Where a copy or a move puts the items. */
  readonly #into: string;
  readonly #onChanged: (folder: string) => void;

  constructor(
    port: ChannelPort,
    id: number,
    kind: 'delete' | 'copy' | 'move',
    picked: readonly WalkedEntry[],
    into: string,
    title: string,
    onChanged: (folder: string) => void,
  ) {
    super(port, { id, kind, title });
    this.#picked = picked;
    this.#into = into;
    this.#onChanged = onChanged;
  }

  protected async run(signal: AbortSignal): Promise<void> {
    const folders = new Set(this.#picked.map((entry) => parentPath(entry.path)));
    try {
      if (this.state.kind === 'delete') await this.#delete(signal);
      else await this.#copyOrMove(signal);
    } finally {
      // Whatever was changed before a failure shows.
      for (const folder of folders) this.#onChanged(folder);
      if (this.state.kind !== 'delete') this.#onChanged(this.#into);
    }
  }

  async #delete(signal: AbortSignal): Promise<void> {
    const walk = await walkPicked(this.requests, this.#picked, { stopAfter: MAX_DELETE_ENTRIES + 1, signal });
    if (walk.cut) {
      throw new ActionStopped(
        `Nothing was deleted: more than ${MAX_DELETE_ENTRIES.toLocaleString('en')} files and folders. Delete fewer at a time.`,
      );
    }
    const entries = walk.entries;
    this.set({ filesTotal: entries.length, status: 'running' });
    if (entries.length > ASK_ABOVE_FILES) {
      const yes = await this.ask({
        text: `This deletes ${entries.length.toLocaleString('en')} files and folders. Delete them all?`,
        yes: 'Delete',
        no: 'Cancel',
      });
      if (!yes) {
        this.cancel();
        return;
      }
    }
    // Parents come before what they hold in the walk: deleting from the end empties each folder first.
    for (const entry of [...entries].reverse()) {
      await this.#change({ op: 'delete', path: entry.path }, signal);
    }
  }

  async #copyOrMove(signal: AbortSignal): Promise<void> {
    this.set({ filesTotal: this.#picked.length, status: 'running' });
    for (const entry of this.#picked) {
      const here = parentPath(entry.path) === this.#into;
      const name = baseName(entry.path);
      if (here && this.state.kind === 'move') {
        this.note(`${name} is in this folder already`);
        this.finished();
        continue;
      }
      const to = joinPath(this.#into, here ? copyName(name) : name);
      await this.#change(
        { op: this.state.kind === 'copy' ? 'copy' : 'rename', path: entry.path, to },
        signal,
      );
    }
  }

  async #change(
    request: { op: 'delete' | 'copy' | 'rename'; path: string; to?: string },
    signal: AbortSignal,
  ): Promise<void> {
    signal.throwIfAborted();
    this.set({ current: request.path });
    try {
      await this.requests.request(
        (channel) => ({ type: 'file-op', channel, ...request }),
        (message) => (message.type === 'file-op-done' ? true : undefined),
        { signal, repeated: (error) => (doneBeforeDrop(request.op, error) ? true : undefined) },
      );
    } catch (error) {
      if (signal.aborted) throw error;
      throw new ActionStopped(
        `${request.path}: ${requestFailureText(error, 'The device stopped before it was done.')} ${this.state.filesDone} of ${this.state.filesTotal} done; the rest were left as they were.`,
      );
    }
    this.finished();
  }
}

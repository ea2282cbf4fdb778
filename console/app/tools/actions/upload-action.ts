import { isRelayLinkError } from '../../../../protocol/index.ts';
import type { ChannelPort } from '../operator-channels.ts';
import { invalidNameReason, joinPath, parentPath } from '../shared-paths.ts';
import { Upload } from '../transfers/upload.ts';
import { ActionStopped, WholeAction } from './whole-action.ts';

/** A file to upload and where it goes, `/`-separated, below the folder it is uploaded into. */
export interface UploadItem {
  file: File;
  path: string;
}

/**
 * Every folder an upload needs, parents before children: the folders of its files and the ones
 * given (a dropped folder may hold empty ones).
 * @example
 * foldersOf([{ file, path: 'logs/old/a.log' }], []) // ['logs', 'logs/old']
 */
export function foldersOf(items: readonly UploadItem[], folders: readonly string[]): string[] {
  const all = new Set<string>();
  const add = (path: string) => {
    const parts = path.split('/');
    for (let depth = 1; depth <= parts.length; depth++) all.add(parts.slice(0, depth).join('/'));
  };
  for (const folder of folders) add(folder);
  for (const item of items) if (item.path.includes('/')) add(parentPath(item.path));
  return [...all].sort((a, b) => a.split('/').length - b.split('/').length);
}

/**
 * Why a path of an upload cannot be used (a part named `..`, a part with a backslash), or null. The
 * agent keeps every path inside the shared folder anyway; this refuses such an upload whole before
 * anything is written.
 */
export function invalidUploadPath(path: string): string | null {
  for (const part of path.split('/')) {
    const why = invalidNameReason(part);
    if (why) return `${path}: ${why}`;
  }
  return null;
}

/**
 * Several files, or a folder with everything in it, uploaded into `folder` as one action with one
 * progress: its folders are created on the device first (one that exists is fine), then each file
 * is uploaded to its path, one after the other, each checked with SHA-256 as a single upload is.
 * A file that exists already is a question (Replace or Skip); one the end user refuses is skipped
 * and noted.
 * @example
 * new UploadAction(port, 4, [{ file, path: 'logs/a.log' }], ['logs/empty'], 'docs', 'logs', onStored).start();
 */
export class UploadAction extends WholeAction {
  readonly #items: readonly UploadItem[];
  readonly #folders: readonly string[];
  readonly #into: string;
  readonly #onStored: (folder: string) => void;

  constructor(
    port: ChannelPort,
    id: number,
    items: readonly UploadItem[],
    folders: readonly string[],
    into: string,
    title: string,
    onStored: (folder: string) => void,
  ) {
    super(port, { id, kind: 'upload', title });
    this.#items = items;
    this.#folders = folders;
    this.#into = into;
    this.#onStored = onStored;
  }

  protected async run(signal: AbortSignal): Promise<void> {
    const folders = foldersOf(this.#items, this.#folders);
    for (const path of [...folders, ...this.#items.map((item) => item.path)]) {
      const why = invalidUploadPath(path);
      if (why) throw new ActionStopped(`Nothing was uploaded: ${why}`);
    }
    const bytes = this.#items.reduce((sum, item) => sum + item.file.size, 0);
    this.set({ filesTotal: this.#items.length, bytesTotal: bytes, status: 'running' });
    for (const path of folders) {
      signal.throwIfAborted();
      this.set({ current: joinPath(this.#into, path) });
      try {
        await this.requests.request(
          (channel) => ({ type: 'file-op', channel, op: 'mkdir', path: joinPath(this.#into, path) }),
          (message) => (message.type === 'file-op-done' ? message : undefined),
          { signal },
        );
      } catch (error) {
        if (!isRelayLinkError(error, 'channel-error') || error.code !== 'FILE_EXISTS') {
          if (isRelayLinkError(error, 'aborted')) throw error;
          throw new ActionStopped(
            `The folder ${path} could not be created on the device: ${(error as Error).message}`,
          );
        }
      }
    }
    if (folders.length > 0) this.#onStored(this.#into);
    for (const item of this.#items) {
      signal.throwIfAborted();
      const upload = new Upload(this.port, this.state.id, item.file, joinPath(this.#into, item.path));
      let state = await this.runTransfer(upload);
      if (state.status === 'exists') {
        const replace = await this.ask({
          text: `${item.path} already exists on the device.`,
          yes: 'Replace',
          no: 'Skip',
        });
        signal.throwIfAborted();
        if (!replace) {
          this.note(`${item.path} left as it was`);
          this.finished(item.file.size);
          continue;
        }
        state = await this.runTransfer(upload, () => upload.replace());
      }
      if (state.status === 'refused') {
        this.note(`${item.path} refused by the user`);
        this.finished(item.file.size);
        continue;
      }
      if (state.status !== 'done') {
        const why = (state.error ?? 'Cancelled.').replace(/ Retry[^.]*\.$/, '');
        throw new ActionStopped(
          `${item.path} failed: ${why} ${this.state.filesDone} of ${this.#items.length} files were uploaded; the rest were not.`,
        );
      }
      this.finished(item.file.size);
      this.#onStored(parentPath(upload.state.path));
    }
  }
}

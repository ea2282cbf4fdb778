import type { ControlMessage, FileEntry } from '../../../../protocol/index.ts';
import { channelErrorText } from './channel-errors.ts';
import type { ChannelMessage, ChannelPort } from './channel-router.ts';
import { invalidNameReason, joinPath } from './shared-paths.ts';
import { Store } from './store.ts';

export interface FileBrowserState {
  /** The folder shown, relative to the shared folder ('' is the shared folder). */
  path: string;
  /** The shared folder's absolute path on the device, once the agent said it. */
  root: string | null;
  /** Folders first, then files, as the agent sorts them; one page of at most MAX_LISTING_ENTRIES. */
  entries: FileEntry[];
  /** Where this page starts among the folder's entries. */
  offset: number;
  /** How many entries the folder has in all. */
  total: number;
  /** A listing was asked for and has not arrived. */
  loading: boolean;
  /** Why the folder could not be listed. */
  error: string | null;
  /** What a change (new folder, rename, delete) is doing, while it runs. */
  busy: string | null;
  /** Why the last change failed. */
  opError: string | null;
  /** A folder has been listed at least once (so a reconnect lists it again). */
  loaded: boolean;
}

const NOT_CONNECTED = 'Not connected to the relay.';

/**
 * The file manager's folder view: lists a folder of the shared folder page by page and makes
 * the changes the protocol offers (mkdir, rename, delete), each on a channel of its own.
 * @example
 * files.open('docs');
 * files.mkdir('reports');
 */
export class FileBrowser extends Store<FileBrowserState> {
  readonly #port: ChannelPort;
  #listing: number | undefined;
  #op: number | undefined;

  constructor(port: ChannelPort) {
    super({
      path: '',
      root: null,
      entries: [],
      offset: 0,
      total: 0,
      loading: false,
      error: null,
      busy: null,
      opError: null,
      loaded: false,
    });
    this.#port = port;
  }

  /** Lists `path` from entry `offset` on; a newer request replaces one still under way. */
  open(path: string, offset = 0): void {
    this.#finishListing();
    const channel = this.#port.open({ onChannelMessage: (message) => this.#onListing(message) });
    if (channel === undefined) {
      this.update({ path, loading: false, error: NOT_CONNECTED });
      return;
    }
    this.#listing = channel;
    this.update({ path, offset, loading: true, error: null });
    this.#port.send({ type: 'file-list', channel, path, offset });
  }

  /** Lists the folder shown again, at the same page. */
  refresh(): void {
    this.open(this.state.path, this.state.offset);
  }

  mkdir(name: string): string | null {
    const invalid = invalidNameReason(name);
    if (invalid) return invalid;
    this.#change(`Creating ${name}…`, { op: 'mkdir', path: joinPath(this.state.path, name) });
    return null;
  }

  rename(name: string, to: string): string | null {
    const invalid = invalidNameReason(to);
    if (invalid) return invalid;
    if (to === name) return null;
    this.#change(`Renaming ${name}…`, {
      op: 'rename',
      path: joinPath(this.state.path, name),
      to: joinPath(this.state.path, to),
    });
    return null;
  }

  /** Deletes a file or an empty folder of the folder shown (the agent refuses anything else). */
  remove(name: string): void {
    this.#change(`Deleting ${name}…`, { op: 'delete', path: joinPath(this.state.path, name) });
  }

  clearOpError(): void {
    if (this.state.opError) this.update({ opError: null });
  }

  /** The connection dropped: nothing asked for will be answered. */
  disconnected(): void {
    this.#listing = undefined;
    this.#op = undefined;
    if (this.state.loading || this.state.busy) this.update({ loading: false, busy: null });
  }

  #change(
    busy: string,
    request: Omit<Extract<ControlMessage, { type: 'file-op' }>, 'type' | 'channel'>,
  ): void {
    if (this.#op !== undefined) return;
    const channel = this.#port.open({ onChannelMessage: (message) => this.#onOpAnswer(message) });
    if (channel === undefined) {
      this.update({ opError: NOT_CONNECTED });
      return;
    }
    this.#op = channel;
    this.update({ busy, opError: null });
    this.#port.send({ type: 'file-op', channel, ...request });
  }

  #onListing(message: ChannelMessage): void {
    if (message.channel !== this.#listing) return;
    if (message.type === 'file-listing') {
      this.#finishListing();
      this.update({
        path: message.path,
        root: message.root,
        entries: message.entries,
        offset: message.offset,
        total: message.total,
        loading: false,
        error: null,
        loaded: true,
      });
    } else if (message.type === 'channel-error' || message.type === 'channel-close') {
      this.#finishListing();
      this.update({
        loading: false,
        entries: [],
        total: 0,
        offset: 0,
        error:
          message.type === 'channel-error'
            ? channelErrorText(message, 'files')
            : 'The device stopped listing the folder.',
      });
    }
  }

  #onOpAnswer(message: ChannelMessage): void {
    if (message.channel !== this.#op) return;
    if (
      message.type !== 'file-op-done' &&
      message.type !== 'channel-error' &&
      message.type !== 'channel-close'
    )
      return;
    this.#port.release(message.channel);
    this.#op = undefined;
    this.update({
      busy: null,
      opError:
        message.type === 'channel-error'
          ? channelErrorText(message, 'files')
          : message.type === 'channel-close'
            ? 'The device stopped before it was done.'
            : null,
    });
    this.refresh();
  }

  #finishListing(): void {
    if (this.#listing === undefined) return;
    this.#port.release(this.#listing);
    this.#listing = undefined;
  }
}

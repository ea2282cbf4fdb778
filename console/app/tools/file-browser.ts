import type { ControlMessage, FileEntry, MessageOf } from '../../../protocol/index.ts';
import type { WalkedEntry } from './actions/file-walk.ts';
import { NOT_CONNECTED, requestFailureText } from './channel-errors.ts';
import type { ChannelPort } from './operator-channels.ts';
import { invalidNameReason, joinPath, parentPath } from './shared-paths.ts';
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
  /** What Copy or Move picked up, to be put into another folder with {@link FileBrowser.paste}. */
  clip: FileClip | null;
  /** Names of the folder shown that the operator ticked, in the listing's order. */
  selected: string[];
  /** The name a shift-click selects from: the last one ticked or unticked. */
  anchor: string | null;
}

/** Files or folders picked up to be copied or moved elsewhere in the shared folder. */
export interface FileClip {
  /** The first item's path. */
  path: string;
  /** The item's name, or how many there are ("3 items"). */
  name: string;
  mode: 'copy' | 'move';
  /** Every item picked up (one for Copy or Move on a row). */
  entries: WalkedEntry[];
}

/**
 * The names selected after the operator ticks or unticks `name` among `names` (the folder's order);
 * with `range` (a shift-click) every name from the anchor to `name` takes the state `name` takes.
 * @example
 * selectNames(['a', 'b', 'c', 'd'], ['a'], 'a', 'c', true) // ['a', 'b', 'c']
 */
export function selectNames(
  names: readonly string[],
  selected: readonly string[],
  anchor: string | null,
  name: string,
  range: boolean,
): string[] {
  const on = new Set(selected);
  const ticked = !on.has(name);
  const from = anchor === null ? -1 : names.indexOf(anchor);
  const to = names.indexOf(name);
  const span =
    range && from >= 0 && to >= 0 ? names.slice(Math.min(from, to), Math.max(from, to) + 1) : [name];
  for (const each of span) {
    if (ticked) on.add(each);
    else on.delete(each);
  }
  return names.filter((each) => on.has(each));
}

/** The name a copy takes beside its original: `notes copy.txt`, `photos copy`. */
export function copyName(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)} copy${name.slice(dot)}` : `${name} copy`;
}

/**
 * The file manager's folder view: lists a folder of the shared folder page by page and makes
 * the changes the protocol offers (mkdir, rename, delete), each on a channel of its own.
 * @example
 * files.open('docs');
 * files.mkdir('reports');
 */
export class FileBrowser extends Store<FileBrowserState> {
  readonly #port: ChannelPort;
  /** Cancels the listing under way; a newer one replaces it. */
  #listing: AbortController | undefined;
  #op: AbortController | undefined;

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
      clip: null,
      selected: [],
      anchor: null,
    });
    this.#port = port;
  }

  /**
   * Lists `path` from entry `offset` on; a newer request replaces one still under way. A device that
   * does not answer within the relay link's request timeout shows as an error.
   */
  open(path: string, offset = 0): void {
    this.#listing?.abort();
    this.#listing = undefined;
    if (!this.#port.connected) {
      this.update({ path, loading: false, error: NOT_CONNECTED });
      return;
    }
    const listing = new AbortController();
    this.#listing = listing;
    const moved = path !== this.state.path;
    this.update({
      path,
      offset,
      loading: true,
      error: null,
      ...(moved ? { selected: [], anchor: null } : {}),
    });
    this.#port
      .request(
        (channel) => ({ type: 'file-list', channel, path, offset }),
        (message) => (message.type === 'file-listing' ? message : undefined),
        { signal: listing.signal },
      )
      .then(
        (message) => this.#listed(listing, message),
        (error: unknown) => this.#listingFailed(listing, error),
      );
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

  /** Picks up `name` of the folder shown, to be copied or moved by {@link paste} (in another folder, or here). */
  pick(name: string, mode: FileClip['mode']): void {
    const entries = this.entriesNamed([name]);
    this.update({ clip: { path: joinPath(this.state.path, name), name, mode, entries } });
  }

  /** Picks up every item selected, to be copied or moved by a whole action. */
  pickSelected(mode: FileClip['mode']): void {
    const entries = this.entriesNamed(this.state.selected);
    const first = entries[0];
    if (!first) return;
    const name = entries.length === 1 ? this.state.selected[0]! : `${entries.length} items`;
    this.update({ clip: { path: first.path, name, mode, entries }, selected: [], anchor: null });
  }

  /** Ticks or unticks `name`; `range` (a shift-click) does the same to every name since the last one. */
  select(name: string, range = false): void {
    const names = this.state.entries.map((entry) => entry.name);
    const selected = selectNames(names, this.state.selected, this.state.anchor, name, range);
    this.update({ selected, anchor: name });
  }

  /** Ticks every item of the page shown, or none. */
  selectAll(on: boolean): void {
    this.update({ selected: on ? this.state.entries.map((entry) => entry.name) : [], anchor: null });
  }

  /** The entries of the folder shown with these names, with their paths, for a whole action. */
  entriesNamed(names: readonly string[]): WalkedEntry[] {
    const wanted = new Set(names);
    return this.state.entries
      .filter((entry) => wanted.has(entry.name))
      .map((entry) => ({ ...entry, path: joinPath(this.state.path, entry.name) }));
  }

  /** Puts down what was picked up, without copying or moving it. */
  drop(): void {
    if (this.state.clip) this.update({ clip: null });
  }

  /**
   * Copies or moves what was picked up into the folder shown; a copy into the folder it came from
   * is named `<name> copy`. The agent copies a folder with everything in it.
   */
  paste(): void {
    const clip = this.state.clip;
    if (!clip) return;
    const here = parentPath(clip.path) === this.state.path;
    if (here && clip.mode === 'move') {
      this.drop();
      return;
    }
    const to = joinPath(this.state.path, here ? copyName(clip.name) : clip.name);
    if (clip.mode === 'copy') this.#change(`Copying ${clip.name}…`, { op: 'copy', path: clip.path, to });
    else this.#change(`Moving ${clip.name}…`, { op: 'rename', path: clip.path, to });
    this.update({ clip: null });
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
    if (!this.#port.connected) {
      this.update({ opError: NOT_CONNECTED });
      return;
    }
    const op = new AbortController();
    this.#op = op;
    this.update({ busy, opError: null });
    this.#port
      .request(
        (channel) => ({ type: 'file-op', channel, ...request }),
        (message) => (message.type === 'file-op-done' ? message : undefined),
      )
      .then(
        () => this.#changed(op, null),
        (error: unknown) =>
          this.#changed(op, requestFailureText(error, 'The device stopped before it was done.')),
      );
  }

  #listed(listing: AbortController, message: MessageOf<'file-listing'>): void {
    if (this.#listing !== listing) return;
    this.#listing = undefined;
    const present = new Set(message.entries.map((entry) => entry.name));
    this.update({
      selected:
        message.path === this.state.path ? this.state.selected.filter((name) => present.has(name)) : [],
      path: message.path,
      root: message.root,
      entries: message.entries,
      offset: message.offset,
      total: message.total,
      loading: false,
      error: null,
      loaded: true,
    });
  }

  #listingFailed(listing: AbortController, error: unknown): void {
    // A replaced listing, or one whose connection dropped (disconnected() said so already).
    if (this.#listing !== listing) return;
    this.#listing = undefined;
    this.update({
      loading: false,
      entries: [],
      total: 0,
      offset: 0,
      error: requestFailureText(error, 'The device stopped listing the folder.'),
    });
  }

  #changed(op: AbortController, opError: string | null): void {
    if (this.#op !== op) return;
    this.#op = undefined;
    this.update({ busy: null, opError });
    this.refresh();
  }
}

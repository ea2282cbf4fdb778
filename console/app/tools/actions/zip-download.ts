import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { formatBytes } from '../../format/bytes.ts';
import type { ChannelPort } from '../operator-channels.ts';
import type { DownloadSink, FileSaver, SaveSlot, SinkRequest } from '../saving/file-saver.ts';
import { baseName, rootLabel } from '../shared-paths.ts';
import { Download } from '../transfers/download.ts';
import { type WalkedEntry, walkPicked } from './file-walk.ts';
import { ActionStopped, WholeAction } from './whole-action.ts';

/**
 * Above this many files a zip asks first: every file costs at least one round trip to the device,
 * so a thousand is minutes over a slow link, and far more is a misclick on a home folder or a root.
 */
export const ASK_ABOVE_FILES = 1000;
/** Above this many bytes a zip asks first, in bytes: minutes at the 10 MB/s of a typical remote link. */
export const ASK_ABOVE_BYTES = 1024 * 1024 * 1024;
/** Entries a zip holds at most: fflate writes no ZIP64, whose 16-bit count stops here. */
export const MAX_ZIP_ENTRIES = 65_535;
/** Bytes a zip holds at most: without ZIP64 its offsets are 32-bit. */
export const MAX_ZIP_BYTES = 2 ** 32 - 1;

/**
 * How long a browser download begun in a click is kept waiting for its stream, in ms: the download
 * worker answers it with nothing after a minute (its UNMATCHED_MS), so an older one is begun afresh.
 */
const SLOT_KEPT_MS = 45_000;

/** The deflate level: measured with fflate on text, level 6 is as fast as level 1 and smaller. */
const DEFLATE_LEVEL = 6;

/**
 * Files worth compressing, by their extension: text of every kind. Everything else is stored as it
 * is: photos, video, archives and installers are compressed already, and fflate deflates at ~45 MB/s
 * on the page's thread whatever the content (measured on random bytes), against ~300 MB/s stored.
 */
const COMPRESSIBLE =
  /\.(txt|log|csv|tsv|json|jsonl|ndjson|xml|html?|css|m?js|cjs|tsx?|jsx|md|svg|sql|conf|cfg|ini|ya?ml|toml|sh|ps1|bat|py|rb|go|rs|c|h|cc|cpp|hpp|java|kt|cs|php|pl|eml|rtf|tex|out|err|trace|dmp)$/i;

/** Whether a file of this name is deflated in a zip (text) or stored (anything else). */
export function compressesInZip(name: string): boolean {
  return COMPRESSIBLE.test(name);
}

// A zip's DOS timestamps reach from 1980 to 2107 (fflate refuses past 2099); files outside are clamped.
const ZIP_EARLIEST_MS = Date.UTC(1980, 0, 2);
const ZIP_LATEST_MS = Date.UTC(2099, 11, 30);

/**
 * One zip of folders and files from the device, built in the page as the files arrive (fflate's
 * streaming Zip) and written to one browser download. Each file is downloaded and verified with
 * its SHA-256 as a single download is ({@link Download}); a file that fails stops the zip and
 * discards it (the browser's download fails), so no partial zip ever looks complete. Links and
 * special files are left out.
 * @example
 * new ZipDownload(port, 3, [{ path: 'photos', type: 'directory', size: 0, modifiedAt }], '', saver, 'photos.zip').start();
 */
export class ZipDownload extends WholeAction {
  readonly #picked: readonly WalkedEntry[];
  /** The folder the items were picked in: paths in the zip are relative to it. */
  readonly #base: string;
  readonly #saver: FileSaver;
  /** The browser's download, begun in the operator's click and not shown until its stream opens. */
  #slot: SaveSlot | undefined;
  #slotSince = 0;
  #sink: DownloadSink | undefined;
  #zip: Zip | undefined;
  /** What the current file's download asked of its sink: told when the browser takes bytes. */
  #entry: SinkRequest | undefined;

  constructor(
    port: ChannelPort,
    id: number,
    picked: readonly WalkedEntry[],
    base: string,
    saver: FileSaver,
    name: string,
  ) {
    super(port, { id, kind: 'download', title: name });
    this.#picked = picked;
    this.#base = base;
    this.#saver = saver;
  }

  /**
   * Begins the browser's download inside the operator's click (a browser lets a page start a
   * download then) without opening it: the browser shows it only once its stream opens, after the
   * folders were walked and any question answered yes (see {@link run}).
   */
  override start(): void {
    this.#slot = this.#saver.begin(this.state.title);
    this.#slotSince = Date.now();
    super.start();
  }

  protected async run(signal: AbortSignal): Promise<void> {
    const walk = await walkPicked(this.requests, this.#picked, { stopAfter: MAX_ZIP_ENTRIES + 1, signal });
    const entries = walk.entries.filter((entry) => entry.type === 'file' || entry.type === 'directory');
    const left = walk.entries.length - entries.length;
    if (left > 0)
      this.note(`${left} link${left === 1 ? '' : 's'} or special file${left === 1 ? '' : 's'} left out`);
    if (walk.cut) {
      throw new ActionStopped(
        `More than ${MAX_ZIP_ENTRIES.toLocaleString('en')} files and folders: one zip cannot hold them. Download fewer at a time.`,
      );
    }
    if (walk.bytes > MAX_ZIP_BYTES) {
      throw new ActionStopped(
        `${formatBytes(walk.bytes)} in all: one zip holds at most 4 GiB. Download fewer at a time, or the largest files on their own.`,
      );
    }
    this.set({ filesTotal: walk.files, bytesTotal: walk.bytes, status: 'running' });
    if (walk.files > ASK_ABOVE_FILES || walk.bytes > ASK_ABOVE_BYTES) {
      // Called off before the browser shows it, so a Cancel leaves no failed download behind; a yes
      // begins it again inside its own click.
      this.#slot?.cancel();
      this.#slot = undefined;
      const yes = await this.ask({
        text: `This is ${walk.files.toLocaleString('en')} files, ${formatBytes(walk.bytes)} in all. Download them all as one zip?`,
        yes: 'Download',
        no: 'Cancel',
      });
      if (!yes) {
        this.cancel();
        return;
      }
    }
    const sink = this.#openSink();
    let failure: Error | undefined;
    const zip = new Zip((error, data) => {
      if (error) failure ??= error;
      else sink.write(data);
    });
    this.#zip = zip;
    for (const entry of entries) {
      signal.throwIfAborted();
      const name = this.#nameOf(entry);
      if (entry.type === 'directory') {
        const folder = new ZipPassThrough(`${name}/`);
        folder.mtime = zipTime(entry.modifiedAt);
        zip.add(folder);
        folder.push(new Uint8Array(0), true);
        continue;
      }
      const download = new Download(this.port, this.state.id, entry.path, this.#entrySaver(name, entry));
      const done = await this.runTransfer(download);
      if (done.status !== 'done') {
        const why = (done.error ?? 'Cancelled.').replace(/ Retry[^.]*\.$/, '');
        throw new ActionStopped(`${entry.path} failed: ${why} The zip was discarded; nothing was saved.`);
      }
      this.finished(done.size ?? done.bytes);
    }
    zip.end();
    if (failure) throw new ActionStopped(`The zip could not be written: ${failure.message}`);
    this.set({ current: null, step: 'verifying' });
    try {
      await sink.close();
    } catch (error) {
      throw new ActionStopped(`The browser could not save the zip: ${String(error)}`);
    }
    this.#sink = undefined;
  }

  /** Opens the browser's download begun in the click, or one begun now where that one is gone or stale. */
  #openSink(): DownloadSink {
    let slot = this.#slot;
    this.#slot = undefined;
    if (!slot || Date.now() - this.#slotSince > SLOT_KEPT_MS) {
      slot?.cancel();
      slot = this.#saver.begin(this.state.title);
    }
    try {
      this.#sink = slot.open({
        size: null,
        taken: () => this.#entry?.taken(),
        broken: (reason) => this.abort(reason),
      });
    } catch (error) {
      throw new ActionStopped(error instanceof Error ? error.message : String(error));
    }
    return this.#sink;
  }

  protected override ended(): void {
    this.#slot?.cancel();
    this.#slot = undefined;
    this.#zip?.terminate();
    this.#sink?.abort(this.state.error ?? 'Cancelled.');
    this.#sink = undefined;
  }

  /** The zip's name for an entry: its path below the folder the items were picked in. */
  #nameOf(entry: WalkedEntry): string {
    return zipEntryName(entry.path, this.#base);
  }

  /** Where one file's download goes: into its entry of the zip. */
  #entrySaver(name: string, entry: WalkedEntry): FileSaver {
    return {
      begin: () => ({
        open: (request) => this.#openEntry(name, entry, request),
        cancel() {},
      }),
    };
  }

  #openEntry(name: string, entry: WalkedEntry, request: SinkRequest): DownloadSink {
    const zip = this.#zip;
    const sink = this.#sink;
    if (!zip || !sink) throw new ActionStopped('The zip is closed.');
    const file = compressesInZip(name)
      ? new ZipDeflate(name, { level: DEFLATE_LEVEL })
      : new ZipPassThrough(name);
    file.mtime = zipTime(entry.modifiedAt);
    zip.add(file);
    this.#entry = request;
    return {
      // What the browser has not taken yet holds this file back too.
      get backlog() {
        return sink.backlog;
      },
      write: (data) => file.push(data),
      close: async () => file.push(new Uint8Array(0), true),
      // A failed file stops the whole zip; the action discards it.
      abort: () => {},
    };
  }
}

/**
 * The name in a zip of an entry picked in `base`: its path below `base`. At the very top of an agent
 * sharing every drive or mount (`base` empty) a path starts with its root, URI-encoded (`%2Fhome/…`,
 * `C%3A%5C/…`): the zip names that folder as people read the root (`home`, `C`; `root` for `/`).
 * @example
 * zipEntryName('C%3A%5C/Users/ada.txt', '') // 'C/Users/ada.txt'
 */
export function zipEntryName(path: string, base: string): string {
  if (base !== '') return path.startsWith(`${base}/`) ? path.slice(base.length + 1) : baseName(path);
  const [top = '', ...rest] = path.split('/');
  const label = rootLabel(top);
  if (label === top) return path;
  const readable = label.replace(/[\\/:*?"<>|]+/g, ' ').trim() || 'root';
  return [readable, ...rest].join('/');
}

/** A file's time as a zip can hold it. */
function zipTime(modifiedAt: number): number {
  return Math.min(Math.max(modifiedAt, ZIP_EARLIEST_MS), ZIP_LATEST_MS);
}

/**
 * The name of the zip of what was picked in `folder` (named `folderName`): a single folder's own
 * name, or the folder's.
 * @example
 * zipNameFor([{ path: 'docs/photos', type: 'directory' }], 'docs') // 'photos.zip'
 */
export function zipNameFor(
  picked: readonly Pick<WalkedEntry, 'path' | 'type'>[],
  folderName: string,
): string {
  const only = picked.length === 1 ? picked[0] : undefined;
  const name = only?.type === 'directory' ? rootLabel(baseName(only.path)) : folderName;
  // A root of every drive is named by its path (`/`, `C:\`): not a name a file can take.
  const clean = name.replace(/[\\/:*?"<>|]+/g, ' ').trim();
  return `${clean || 'files'}.zip`;
}

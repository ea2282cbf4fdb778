import {
  type FileEntry,
  MAX_CONTROL_BYTES,
  MAX_LISTING_ENTRIES,
  type MessageOf,
} from '../../protocol/index.ts';
import { ChannelFailure } from './channel-failure.ts';
import type { ChannelHandler, ChannelScope } from './channel-scope.ts';
import type { FileHost } from './ports.ts';
import { normalizeWirePath } from './wire-path.ts';

/** Room kept in a listing's control frame for everything but the entries, in bytes. */
const LISTING_ENVELOPE_BYTES = 1024;

const encoder = new TextEncoder();

/** Folders first, then by name, case-insensitively (ties by exact name, so the order is stable). */
export function sortEntries(entries: FileEntry[]): FileEntry[] {
  const folder = (entry: FileEntry) => (entry.type === 'directory' ? 0 : 1);
  return [...entries].sort((a, b) => {
    const byType = folder(a) - folder(b);
    if (byType !== 0) return byType;
    const byName = a.name.localeCompare(b.name, undefined, { sensitivity: 'accent' });
    if (byName !== 0) return byName;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

/**
 * The page of a sorted listing that starts at `offset`: at most MAX_LISTING_ENTRIES and never more
 * than fits one control frame beside `envelopeBytes` (long names are paged sooner).
 */
export function pageOf(entries: FileEntry[], offset: number, envelopeBytes: number): FileEntry[] {
  const budget = MAX_CONTROL_BYTES - envelopeBytes - LISTING_ENVELOPE_BYTES;
  const page: FileEntry[] = [];
  let used = 0;
  for (const entry of entries.slice(offset, offset + MAX_LISTING_ENTRIES)) {
    used += encoder.encode(JSON.stringify(entry)).byteLength + 1;
    if (used > budget && page.length > 0) break;
    page.push(entry);
  }
  return page;
}

/** A listing (`file-list`): one page of a folder's entries, then the channel is done. */
export class ListingRequest implements ChannelHandler {
  readonly capability = 'files';

  constructor(scope: ChannelScope, files: FileHost, request: MessageOf<'file-list'>) {
    const path = normalizeWirePath(request.path);
    const offset = request.offset ?? 0;
    files.list(path).then(
      (entries) => {
        const envelope = encoder.encode(JSON.stringify({ path, root: files.root })).byteLength;
        scope.send({
          type: 'file-listing',
          channel: scope.id,
          path,
          root: files.root,
          offset,
          total: entries.length,
          entries: pageOf(sortEntries(entries), offset, envelope),
        });
        scope.end();
      },
      (error: unknown) => scope.fail(error),
    );
  }

  async close(): Promise<void> {}
}

/**
 * A change (`file-op`): mkdir, delete (a file or an empty folder), rename (a move, also into another
 * folder) or copy (a file, or a folder with everything in it), then `file-op-done`.
 */
export class FileOpRequest implements ChannelHandler {
  readonly capability = 'files';

  constructor(scope: ChannelScope, files: FileHost, request: MessageOf<'file-op'>) {
    FileOpRequest.apply(files, request).then(
      () => {
        scope.send({ type: 'file-op-done', channel: scope.id });
        scope.end();
      },
      (error: unknown) => scope.fail(error),
    );
  }

  private static async apply(files: FileHost, request: MessageOf<'file-op'>): Promise<void> {
    const path = normalizeWirePath(request.path);
    if (request.op === 'mkdir') {
      if (!path) throw new ChannelFailure('FILE_EXISTS', 'The shared folder exists.');
      return files.mkdir(path);
    }
    if (!path) throw new ChannelFailure('FORBIDDEN', `The shared folder itself cannot be ${request.op}d.`);
    if (request.op === 'delete') return files.remove(path);
    const to = normalizeWirePath(request.to ?? '');
    if (!to) throw new ChannelFailure('VALIDATION_FAILED', `A ${request.op} needs \`to\`, the new path.`);
    if (request.op === 'copy') return files.copy(path, to);
    return files.rename(path, to, { replace: false });
  }

  async close(): Promise<void> {}
}

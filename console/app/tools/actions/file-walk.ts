import type { FileEntry } from '../../../../protocol/index.ts';
import type { ChannelPort } from '../operator-channels.ts';
import { joinPath } from '../shared-paths.ts';

/** A file, folder or link found under what the operator picked, with its path in the shared folder. */
export interface WalkedEntry {
  path: string;
  type: FileEntry['type'];
  size: number;
  modifiedAt: number;
}

/** What the walk found: every entry, parents before what they hold, and the sum of the files' sizes. */
export interface Walk {
  entries: WalkedEntry[];
  files: number;
  bytes: number;
  /** The walk stopped at `stopAfter` entries: there are more. */
  cut: boolean;
}

/**
 * Lists what the operator picked, folders with everything in them (one `file-list` per page of
 * MAX_LISTING_ENTRIES), parents before their contents. Links are listed but not followed, so a link
 * to a parent folder cannot make the walk endless; it stops after `stopAfter` entries.
 * @example
 * const { entries, files, bytes } = await walkPicked(port, [{ path: 'docs', type: 'directory', size: 0, modifiedAt }]);
 */
export async function walkPicked(
  port: Pick<ChannelPort, 'request'>,
  picked: readonly WalkedEntry[],
  options: { stopAfter: number; signal?: AbortSignal },
): Promise<Walk> {
  const walk: Walk = { entries: [], files: 0, bytes: 0, cut: false };
  const add = (entry: WalkedEntry): boolean => {
    if (walk.entries.length >= options.stopAfter) {
      walk.cut = true;
      return false;
    }
    walk.entries.push(entry);
    if (entry.type === 'file') {
      walk.files++;
      walk.bytes += entry.size;
    }
    return true;
  };
  const visit = async (entry: WalkedEntry): Promise<boolean> => {
    if (!add(entry)) return false;
    if (entry.type !== 'directory') return true;
    for (let offset = 0; ; ) {
      options.signal?.throwIfAborted();
      const listing = await port.request(
        (channel) => ({ type: 'file-list', channel, path: entry.path, offset }),
        (message) => (message.type === 'file-listing' ? message : undefined),
        options.signal ? { signal: options.signal } : undefined,
      );
      for (const child of listing.entries) {
        const found = { ...child, path: joinPath(entry.path, child.name) };
        if (!(await visit(found))) return false;
      }
      offset = listing.offset + listing.entries.length;
      if (listing.entries.length === 0 || offset >= listing.total) return true;
    }
  };
  for (const entry of picked) if (!(await visit(entry))) break;
  return walk;
}

import type { UploadItem } from './actions/upload-action.ts';
import { joinPath } from './shared-paths.ts';

/** What was dropped onto the file manager: files with their paths, and every folder (empty ones too). */
export interface Dropped {
  items: UploadItem[];
  folders: string[];
}

/**
 * Takes what a drop carries while the event runs (a DataTransfer is emptied once it returns): the
 * file system entries where the browser gives them (a dropped folder), else the plain files.
 * {@link readDropped} then reads the folders.
 */
export function takeDrop(transfer: DataTransfer): { entries: FileSystemEntry[]; files: File[] } {
  const entries: FileSystemEntry[] = [];
  for (const item of Array.from(transfer.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
  }
  return { entries, files: Array.from(transfer.files) };
}

/**
 * Every file and folder of a drop, folders read to the bottom, each file with its path below the
 * folder it is dropped into. Without entries (a browser that gives none), the plain files.
 * @example
 * const taken = takeDrop(event.dataTransfer);
 * const { items, folders } = await readDropped(taken);
 */
export async function readDropped(taken: { entries: FileSystemEntry[]; files: File[] }): Promise<Dropped> {
  if (taken.entries.length === 0) {
    return { items: taken.files.map((file) => ({ file, path: file.name })), folders: [] };
  }
  const dropped: Dropped = { items: [], folders: [] };
  const visit = async (entry: FileSystemEntry, at: string): Promise<void> => {
    const path = joinPath(at, entry.name);
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) =>
        (entry as FileSystemFileEntry).file(resolve, reject),
      );
      dropped.items.push({ file, path });
      return;
    }
    if (!entry.isDirectory) return;
    dropped.folders.push(path);
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // Chromium hands a folder's entries over in batches of 100; an empty batch is the end.
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
        reader.readEntries(resolve, reject),
      );
      if (batch.length === 0) break;
      for (const child of batch) await visit(child, path);
    }
  };
  for (const entry of taken.entries) await visit(entry, '');
  return dropped;
}

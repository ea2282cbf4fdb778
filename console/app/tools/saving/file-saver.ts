import { saveBlob } from '../save-blob.ts';

/**
 * Largest download kept in the page's memory when the browser cannot stream it to disk, in bytes:
 * the whole file is held until it is complete and verified, then handed over as one Blob.
 */
export const MAX_IN_MEMORY_BYTES = 1024 * 1024 * 1024;

/** Hands a finished download to the browser as one Blob (a download link in the console). */
export type SaveFile = (blob: Blob, name: string) => void;

/** Where the bytes of one download go as they arrive, in order. */
export interface DownloadSink {
  /** Bytes given to {@link write} that the destination has not taken yet; acknowledging waits for them. */
  readonly backlog: number;
  write(data: Uint8Array): void;
  /** Every byte arrived and the SHA-256 matched: the file is complete. Rejects when it could not be saved. */
  close(): Promise<void>;
  /** The download failed for good or was cancelled: what was written is discarded. */
  abort(reason: string): void;
}

export interface SinkRequest {
  /** In bytes; null when it is not known before the end (a zip built as the files arrive). */
  size: number | null;
  /** The destination took bytes: the backlog went down. */
  taken(): void;
  /** The destination went away (the operator cancelled the browser's download). */
  broken(reason: string): void;
}

/**
 * A download the browser was told about, while the device has not said how large the file is. It
 * is begun inside the operator's click: a browser lets a page start downloads one after another only
 * while the user is acting on it.
 */
export interface SaveSlot {
  /** The size is known: opens the sink. Throws a {@link SaveRefused} for a file it cannot take. */
  open(request: SinkRequest): DownloadSink;
  /** Nothing will come: the browser's download is called off. */
  cancel(): void;
}

/** Begins a slot for each download, named `name`. */
export interface FileSaver {
  begin(name: string): SaveSlot;
}

/** A download this browser cannot save; the message says why and what would help. */
export class SaveRefused extends Error {
  override readonly name = 'SaveRefused';
}

const MIB = 1024 * 1024;

/**
 * Keeps each download in memory and saves it as one Blob once verified: the fallback where the page
 * cannot stream to disk (no service worker outside a secure context), so files are capped.
 * @example
 * const saver = saveInMemory((blob, name) => saveBlob(blob, name));
 */
export function saveInMemory(save: SaveFile = saveBlob, maxBytes = MAX_IN_MEMORY_BYTES): FileSaver {
  return {
    begin: (name) => ({
      open: (request) => openInMemory(name, request),
      cancel() {},
    }),
  };

  function tooLarge(name: string, size: number): string {
    return `The ${name.endsWith('.zip') ? 'zip' : 'file'} is ${Math.round(size / MIB)} MiB; without streaming to disk the console takes downloads up to ${Math.round(
      maxBytes / MIB,
    )} MiB. Open the console over HTTPS (or on localhost) to download larger ones.`;
  }

  function openInMemory(name: string, { size, broken }: SinkRequest): DownloadSink {
    if (size !== null && size > maxBytes) throw new SaveRefused(tooLarge(name, size));
    let parts: Uint8Array[] = [];
    let held = 0;
    let over = false;
    return {
      backlog: 0,
      write(data) {
        if (over) return;
        if (held + data.byteLength > maxBytes) {
          // A download whose size was not known before (a zip) finds out only now.
          over = true;
          parts = [];
          broken(tooLarge(name, held + data.byteLength));
          return;
        }
        held += data.byteLength;
        parts.push(data);
      },
      async close() {
        const blob = new Blob(parts as BlobPart[]);
        parts = [];
        save(blob, name);
      },
      abort() {
        parts = [];
      },
    };
  }
}

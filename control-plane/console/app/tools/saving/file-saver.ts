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
  /** The file's name, for the browser's download. */
  name: string;
  /** In bytes. */
  size: number;
  /** The destination took bytes: the backlog went down. */
  taken(): void;
  /** The destination went away (the operator cancelled the browser's download). */
  broken(reason: string): void;
}

/** Opens a sink for each download; throws a {@link SaveRefused} for a file it cannot take. */
export interface FileSaver {
  open(request: SinkRequest): DownloadSink;
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
    open({ name, size }) {
      if (size > maxBytes) {
        throw new SaveRefused(
          `The file is ${Math.round(size / MIB)} MiB; without streaming to disk the console takes files up to ${Math.round(
            maxBytes / MIB,
          )} MiB. Open the console over HTTPS (or on localhost) to download larger files.`,
        );
      }
      let parts: Uint8Array[] = [];
      return {
        backlog: 0,
        write(data) {
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
    },
  };
}

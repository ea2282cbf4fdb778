import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { parseStampFooter, STAMP_FOOTER_BYTES } from '../../protocol/agent-stamp.ts';
import { ownExecutable } from './own-executable.ts';

/** A stamp found at the end of an executable, not yet verified. */
export interface FoundStamp {
  jwt: string;
  /** Bytes of the executable before the stamp: what the `exe` claim is a digest of. */
  unstampedLength: number;
}

/**
 * Reads the stamp at the end of `path` (by default this process's own executable). Returns undefined
 * for an unstamped file. Whatever follows the magic's length is returned as is: a damaged stamp must
 * be refused by {@link verifyStamp}, not mistaken for no stamp.
 *
 * @example
 * const found = readStamp(ownExecutable());
 * if (found) config = await verifyStamp(found.jwt, { executableDigest: () => digestPrefix(ownExecutable(), found.unstampedLength) });
 */
export function readStamp(path: string = ownExecutable()): FoundStamp | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < STAMP_FOOTER_BYTES) return undefined;
    const footer = new Uint8Array(STAMP_FOOTER_BYTES);
    readSync(fd, footer, 0, STAMP_FOOTER_BYTES, size - STAMP_FOOTER_BYTES);
    const length = parseStampFooter(footer, size);
    if (length === undefined) return undefined;
    const body = Buffer.alloc(length);
    const start = size - STAMP_FOOTER_BYTES - length;
    readSync(fd, body, 0, length, start);
    return { jwt: body.toString('latin1'), unstampedLength: start };
  } finally {
    closeSync(fd);
  }
}

/** SHA-256 (base64url) of the first `length` bytes of a file, streamed. */
export function digestPrefix(path: string, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    if (length === 0) {
      resolve(hash.digest('base64url'));
      return;
    }
    createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('base64url')));
  });
}

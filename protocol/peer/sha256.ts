import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/**
 * An incremental SHA-256, as a transfer needs it. Node's `createHash('sha256')` fits as it is (native,
 * faster on a server); {@link Sha256} runs in every runtime.
 */
export interface Hasher {
  update(data: Uint8Array): unknown;
  /** Finishes and returns the digest as 64 lowercase hex digits; the hasher takes no more input. */
  digest(encoding: 'hex'): string;
}

/**
 * SHA-256 fed piece by piece, as a file's chunks arrive or leave. WebCrypto's `digest` needs the
 * whole input in one buffer and only exists in secure contexts, and the console may be served
 * over plain HTTP on a closed network; @noble/hashes (audited, no dependencies) runs anywhere.
 * @example
 * const hash = new Sha256();
 * hash.update(chunk1).update(chunk2);
 * hash.hex(); // '9f86d0…'
 */
export class Sha256 implements Hasher {
  readonly #hash = sha256.create();
  /** Bytes hashed so far. */
  length = 0;

  /** Adds bytes; returns itself so calls chain. */
  update(data: Uint8Array): this {
    this.#hash.update(data);
    this.length += data.byteLength;
    return this;
  }

  /** Finishes and returns the 32-byte digest (or its hex); the hash takes no more input after this. */
  digest(): Uint8Array;
  digest(encoding: 'hex'): string;
  digest(encoding?: 'hex'): Uint8Array | string {
    const digest = this.#hash.digest();
    return encoding === 'hex' ? bytesToHex(digest) : digest;
  }

  /** Finishes and returns the digest as 64 lowercase hex digits, as `file-end` carries it. */
  hex(): string {
    return this.digest('hex');
  }
}

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/**
 * SHA-256 fed piece by piece, as a file's chunks arrive or leave. WebCrypto's `digest` needs the
 * whole input in one buffer and only exists in secure contexts, and the console may be served
 * over plain HTTP on a closed network; @noble/hashes (audited, no dependencies) runs anywhere.
 * @example
 * const hash = new Sha256();
 * hash.update(chunk1).update(chunk2);
 * hash.hex(); // '9f86d0…'
 */
export class Sha256 {
  readonly #hash = sha256.create();
  /** Bytes hashed so far. */
  length = 0;

  /** Adds bytes; returns itself so calls chain. */
  update(data: Uint8Array): this {
    this.#hash.update(data);
    this.length += data.byteLength;
    return this;
  }

  /** Finishes and returns the 32-byte digest; the hash takes no more input after this. */
  digest(): Uint8Array {
    return this.#hash.digest();
  }

  /** Finishes and returns the digest as 64 lowercase hex digits, as `file-end` carries it. */
  hex(): string {
    return bytesToHex(this.digest());
  }
}

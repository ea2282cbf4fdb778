/**
 * SHA-256 fed piece by piece, as a file's chunks arrive or leave. WebCrypto's `digest` needs the
 * whole input in one buffer and only exists in secure contexts, and the console may be served
 * over plain HTTP on a closed network; this one runs anywhere and holds 64 bytes of state.
 * @example
 * const hash = new Sha256();
 * hash.update(chunk1).update(chunk2);
 * hash.hex(); // '9f86d0…'
 */
export class Sha256 {
  readonly #state = Uint32Array.from(INITIAL_STATE);
  readonly #block = new Uint8Array(BLOCK_BYTES);
  readonly #words = new Uint32Array(64);
  #blockLength = 0;
  /** Bytes hashed so far. */
  length = 0;
  #finished = false;

  /** Adds bytes; returns itself so calls chain. */
  update(data: Uint8Array): this {
    if (this.#finished) throw new Error('this SHA-256 was already finished');
    let at = 0;
    this.length += data.byteLength;
    if (this.#blockLength > 0) {
      const take = Math.min(BLOCK_BYTES - this.#blockLength, data.byteLength);
      this.#block.set(data.subarray(0, take), this.#blockLength);
      this.#blockLength += take;
      at = take;
      if (this.#blockLength < BLOCK_BYTES) return this;
      this.#compress(this.#block, 0);
      this.#blockLength = 0;
    }
    for (; at + BLOCK_BYTES <= data.byteLength; at += BLOCK_BYTES) this.#compress(data, at);
    if (at < data.byteLength) {
      this.#block.set(data.subarray(at), 0);
      this.#blockLength = data.byteLength - at;
    }
    return this;
  }

  /** Finishes and returns the 32-byte digest; the hash takes no more input after this. */
  digest(): Uint8Array {
    if (this.#finished) throw new Error('this SHA-256 was already finished');
    const bits = this.length * 8;
    const padding = new Uint8Array((this.#blockLength < 56 ? 64 : 128) - this.#blockLength);
    padding[0] = 0x80;
    const tail = new DataView(padding.buffer);
    tail.setUint32(padding.byteLength - 8, Math.floor(bits / 2 ** 32));
    tail.setUint32(padding.byteLength - 4, bits >>> 0);
    const length = this.length;
    this.update(padding);
    this.length = length;
    this.#finished = true;
    const out = new Uint8Array(32);
    const view = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) view.setUint32(i * 4, this.#state[i]!);
    return out;
  }

  /** Finishes and returns the digest as 64 lowercase hex digits, as `file-end` carries it. */
  hex(): string {
    return Array.from(this.digest(), (byte) => byte.toString(16).padStart(2, '0')).join('');
  }

  #compress(data: Uint8Array, at: number): void {
    const w = this.#words;
    for (let i = 0; i < 16; i++) {
      const j = at + i * 4;
      w[i] = ((data[j]! << 24) | (data[j + 1]! << 16) | (data[j + 2]! << 8) | data[j + 3]!) >>> 0;
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!;
      const b = w[i - 2]!;
      const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
      const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) >>> 0;
    }
    const h = this.#state;
    let a = h[0]!;
    let b = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    let e = h[4]!;
    let f = h[5]!;
    let g = h[6]!;
    let k = h[7]!;
    for (let i = 0; i < 64; i++) {
      const t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] = (h[0]! + a) >>> 0;
    h[1] = (h[1]! + b) >>> 0;
    h[2] = (h[2]! + c) >>> 0;
    h[3] = (h[3]! + d) >>> 0;
    h[4] = (h[4]! + e) >>> 0;
    h[5] = (h[5]! + f) >>> 0;
    h[6] = (h[6]! + g) >>> 0;
    h[7] = (h[7]! + k) >>> 0;
  }
}

/** SHA-256 works on 64-byte blocks. */
const BLOCK_BYTES = 64;

function rotr(value: number, bits: number): number {
  return (value >>> bits) | (value << (32 - bits));
}

// FIPS 180-4, section 5.3.3 and 4.2.2.
const INITIAL_STATE = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

const K = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

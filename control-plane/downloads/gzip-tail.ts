import { crc32 } from 'node:zlib';
import type { PrecompressedExecutable } from '../../build/agent/precompress.ts';

/** A stored deflate block holds at most this many bytes. */
const MAX_STORED_BLOCK = 0xffff;

/**
 * The bytes that complete a precompressed executable into a gzip member of executable + `tail`:
 * `tail` in final stored (uncompressed) deflate blocks, then CRC-32 and length mod 2^32.
 */
export function gzipTail(
  pre: Pick<PrecompressedExecutable, 'crc32' | 'length'>,
  tail: Uint8Array,
): Uint8Array {
  const blocks = Math.max(1, Math.ceil(tail.length / MAX_STORED_BLOCK));
  const out = new Uint8Array(blocks * 5 + tail.length + 8);
  const view = new DataView(out.buffer);
  let at = 0;
  for (let i = 0; i < blocks; i++) {
    const chunk = tail.subarray(i * MAX_STORED_BLOCK, (i + 1) * MAX_STORED_BLOCK);
    out[at] = i === blocks - 1 ? 1 : 0; // BFINAL on the last; BTYPE 00 (stored)
    view.setUint16(at + 1, chunk.length, true);
    view.setUint16(at + 3, ~chunk.length & 0xffff, true);
    out.set(chunk, at + 5);
    at += 5 + chunk.length;
  }
  // zlib's crc32() answers 0 for a null buffer, which an empty Uint8Array may have: skip it.
  view.setUint32(at, (tail.length === 0 ? pre.crc32 : crc32(tail, pre.crc32)) >>> 0, true);
  view.setUint32(at + 4, (pre.length + tail.length) % 2 ** 32, true);
  return out;
}

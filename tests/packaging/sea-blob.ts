/**
 * Reads one asset out of a SEA blob without running it, for the executables that cannot run here
 * (Windows). In Node 22's blob (unchanged in 24) each asset is stored as its key and its content, each preceded by its
 * length (uint64, little-endian): `len(key) key len(content) content`.
 *
 * @returns the content stored under `key`, or undefined when no asset has that key.
 */
export function findSeaAsset(blob: Uint8Array, key: string): Buffer | undefined {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const keyBytes = Buffer.from(key, 'utf8');
  const needle = Buffer.concat([uint64(keyBytes.length), keyBytes]);
  for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) {
    const sizeAt = at + needle.length;
    if (sizeAt + 8 > bytes.length) return undefined;
    const size = bytes.readBigUInt64LE(sizeAt);
    const start = sizeAt + 8;
    if (size <= BigInt(bytes.length - start)) return bytes.subarray(start, start + Number(size));
  }
  return undefined;
}

function uint64(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt(value));
  return bytes;
}

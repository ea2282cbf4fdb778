import {
  createReadStream,
  createWriteStream,
  existsSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, crc32, createDeflateRaw } from 'node:zlib';

/**
 * An executable compressed once, as the open beginning of a gzip stream: the gzip header and a
 * deflate stream flushed to a byte boundary (`Z_SYNC_FLUSH`) but not finished. Each download then
 * appends its own stamp as a final stored block plus the gzip trailer (CRC-32 and length), so a
 * 180 MB executable is compressed once per build instead of once per download (gzip -6 of it takes
 * 14 s of CPU) and every response is still one standard gzip member.
 */
export interface PrecompressedExecutable {
  /** The open gzip stream: `<executable>.gz`. */
  path: string;
  /** Bytes of that file. */
  size: number;
  /** CRC-32 of the uncompressed executable. */
  crc32: number;
  /** Bytes of the uncompressed executable. */
  length: number;
  /** SHA-256 of the executable it was made from, so a rebuilt executable is never paired with it. */
  sha256: string;
}

/** zlib's default: level 9 saves 0.5 % for twice the time. */
const GZIP_LEVEL = 6;
/** gzip member header: magic, deflate, no flags, no mtime, no extra flags, OS unknown. */
const GZIP_HEADER = Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** A stored deflate block holds at most this many bytes. */
const MAX_STORED_BLOCK = 0xffff;

/**
 * Writes `<executable>.gz` and `<executable>.gz.json` unless they already match `sha256`.
 * @param sha256 base64url SHA-256 of the executable (from its build manifest).
 */
export async function precompressExecutable(
  executable: string,
  sha256: string,
): Promise<PrecompressedExecutable> {
  const path = `${executable}.gz`;
  const metaPath = `${path}.json`;
  if (existsSync(path) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as PrecompressedExecutable;
    if (meta.sha256 === sha256 && statSync(path).size === meta.size) return { ...meta, path };
  }
  let crc = 0;
  let length = 0;
  const partial = `${path}.partial-${process.pid}`;
  const out = createWriteStream(partial);
  out.write(GZIP_HEADER);
  await pipeline(
    createReadStream(executable, { highWaterMark: 1024 * 1024 }),
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        crc = crc32(chunk, crc);
        length += chunk.length;
        callback(null, chunk);
      },
    }),
    createDeflateRaw({ level: GZIP_LEVEL, finishFlush: constants.Z_SYNC_FLUSH }),
    out,
  );
  renameSync(partial, path);
  const meta: PrecompressedExecutable = { path, size: statSync(path).size, crc32: crc, length, sha256 };
  writeFileSync(metaPath, JSON.stringify(meta));
  return meta;
}

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

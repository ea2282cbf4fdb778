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
 * appends its own stamp as a final stored block plus the gzip trailer (CRC-32 and length: `gzipTail`
 * in control-plane/downloads/gzip-tail.ts), so a 180 MB executable is compressed once per build
 * instead of once per download (gzip -6 of it takes 14 s of CPU) and every response is still one
 * standard gzip member.
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

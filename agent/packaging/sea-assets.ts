import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as sea from 'node:sea';

/** The SEA asset that lists the others: written by the build, read at start. */
export const ASSET_MANIFEST_KEY = 'assets.json';

/**
 * The Windows service host (`lifeline-service.exe`, agent/device/windows/service-host.c), embedded in
 * the Windows executable only and written by `install`, never unpacked for a session.
 */
export const SERVICE_HOST_ASSET = 'lifeline-service.exe';

/** What the agent needs unpacked from its executable. */
export type AssetRole = 'robotjs' | 'ffmpeg' | 'x264' | 'node-pty' | 'desktop-helper';

/** One file embedded in the executable. */
export interface AssetEntry {
  role: AssetRole;
  /** SEA asset key. */
  key: string;
  /**
   * Path to unpack to inside the work directory, `/`-separated: a file name (`ffmpeg.exe` on
   * Windows) or a path inside a package directory (`node-pty/lib/index.js`).
   */
  file: string;
}

/**
 * Paths of the unpacked assets, by role: the file, or for a package of several files its directory
 * (the first segment of their paths, e.g. `<work dir>/node-pty`).
 */
export type UnpackedAssets = Partial<Record<AssetRole, string>>;

/** Whether this process is the packaged single executable (and not `node agent/main.ts`). */
export function isPackaged(): boolean {
  try {
    return sea.isSea();
  } catch {
    return false;
  }
}

/**
 * Writes the executable's embedded assets (the robotjs add-on, the screen's encoder — ffmpeg, or
 * `lifeline-x264` on Linux — node-pty's package, and on Windows the desktop helper) into
 * `dir`, which the caller created private (0700); subdirectories and files are 0700 too, since the
 * native parts are loaded or run from there.
 *
 * `getRawAsset` returns a view of the executable's own memory, so nothing is copied before writing.
 */
export function unpackAssets(dir: string): UnpackedAssets {
  const manifest = JSON.parse(sea.getAsset(ASSET_MANIFEST_KEY, 'utf8')) as AssetEntry[];
  const unpacked: UnpackedAssets = {};
  for (const entry of manifest) {
    const segments = assetPathSegments(entry.file);
    const path = join(dir, ...segments);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, new Uint8Array(sea.getRawAsset(entry.key) as ArrayBuffer), { mode: 0o700 });
    unpacked[entry.role] = join(dir, segments[0] as string);
  }
  return unpacked;
}

/**
 * The segments of an asset's path, which must stay inside the work directory: relative, `/`-separated,
 * without empty, `.` or `..` segments.
 */
export function assetPathSegments(file: string): string[] {
  const segments = file.split('/');
  if (
    segments.some((segment) => segment === '' || segment === '.' || segment === '..' || /[\\:]/.test(segment))
  )
    throw new Error(
      `The executable's asset list names ${JSON.stringify(file)}, which is not a path inside its work directory`,
    );
  return segments;
}

/** Writes one embedded asset to `path` (executable); an error when this executable does not carry it. */
export function writeAsset(key: string, path: string): void {
  let bytes: ArrayBuffer;
  try {
    bytes = sea.getRawAsset(key) as ArrayBuffer;
  } catch (error) {
    throw new Error(`This agent executable does not carry ${key}: use the packaged Windows agent.`, {
      cause: error,
    });
  }
  writeFileSync(path, new Uint8Array(bytes), { mode: 0o755 });
}

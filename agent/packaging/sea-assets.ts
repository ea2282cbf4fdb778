import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as sea from 'node:sea';

/** The SEA asset that lists the others: written by the build, read at start. */
export const ASSET_MANIFEST_KEY = 'assets.json';

/** What the agent needs unpacked from its executable. */
export type AssetRole = 'robotjs' | 'ffmpeg';

/** One file embedded in the executable. */
export interface AssetEntry {
  role: AssetRole;
  /** SEA asset key. */
  key: string;
  /** File name to unpack to, e.g. `ffmpeg.exe` on Windows. */
  file: string;
}

/** Paths of the unpacked assets, by role. */
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
 * Writes the executable's embedded assets (the robotjs add-on, ffmpeg) into `dir`, which the caller
 * created private (0700); files are 0700 too, since both are loaded or run from there.
 *
 * `getRawAsset` returns a view of the executable's own memory, so nothing is copied before writing.
 */
export function unpackAssets(dir: string): UnpackedAssets {
  const manifest = JSON.parse(sea.getAsset(ASSET_MANIFEST_KEY, 'utf8')) as AssetEntry[];
  const unpacked: UnpackedAssets = {};
  for (const entry of manifest) {
    const path = join(dir, entry.file);
    writeFileSync(path, new Uint8Array(sea.getRawAsset(entry.key) as ArrayBuffer), { mode: 0o700 });
    unpacked[entry.role] = path;
  }
  return unpacked;
}

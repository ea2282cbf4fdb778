import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';

/** A `--files-root` that cannot be shared; the message says what to do. */
export class FilesRootError extends Error {
  override readonly name = 'FilesRootError';
  readonly kind = 'files-root-invalid';
}

/**
 * The folder the agent shares for file transfers and starts shells and commands in: `--files-root`,
 * or the user's home folder. It must exist and be a folder; the answer is its real, absolute path,
 * against which every wire path is checked.
 */
export function resolveFilesRoot(flag: string | undefined, home: () => string = homedir): string {
  const wanted = resolve(flag ?? home());
  let real: string;
  try {
    real = realpathSync(wanted);
  } catch {
    throw new FilesRootError(
      `--files-root: ${wanted} does not exist. Give a folder to share, for example --files-root ~/Documents.`,
    );
  }
  if (!statSync(real).isDirectory()) {
    throw new FilesRootError(
      `--files-root: ${wanted} is not a folder. Give the folder to share, not a file.`,
    );
  }
  return real;
}

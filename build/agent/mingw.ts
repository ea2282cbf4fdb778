import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Debian's cross-compiler for 64-bit Windows (package gcc-mingw-w64-x86-64). */
export const MINGW_GCC = 'x86_64-w64-mingw32-gcc';

/**
 * Compiles C sources into one Windows program at `output` (optimised, stripped, every warning an
 * error), linked with `libraries` (`-l…`), with any further compiler `flags` first (e.g. `-municode`).
 * `what` names the program in the error saying what to install when the cross-compiler is missing.
 */
export async function compileWithMingw(
  what: string,
  output: string,
  sources: readonly string[],
  libraries: readonly string[],
  flags: readonly string[] = [],
): Promise<void> {
  try {
    await execFileAsync(MINGW_GCC, [
      ...flags,
      '-O2',
      '-s',
      '-Wall',
      '-Wextra',
      '-Werror',
      // No link time in the PE header: the same sources give the same bytes, so the runtime they are
      // embedded in keeps its digest and its compressed copy in the cache (build/agent/launcher.ts).
      '-Wl,--no-insert-timestamp',
      '-o',
      output,
      ...sources,
      ...libraries,
    ]);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT')
      throw new Error(
        `${MINGW_GCC} is needed to build ${what}: apt-get install --no-install-recommends gcc-mingw-w64-x86-64 (.ci/run does).`,
      );
    throw error;
  }
}

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MINGW_GCC } from './service-host.ts';

const execFileAsync = promisify(execFile);

/** The C source of the Windows agent's desktop helper (see the file's header for its sub-commands). */
export const DESKTOP_HELPER_SOURCE = new URL('../../agent/platform/windows/desktop-helper.c', import.meta.url)
  .pathname;
/** Its file name, in the executable's assets and in the agent's work directory. */
export const DESKTOP_HELPER_FILE = 'lifeline-desktop.exe';

/**
 * Compiles the Windows desktop helper (`lifeline-desktop.exe`, about 50 KB) into `dir`; its path. It
 * is embedded in the Windows agent, which unpacks it into its work directory for the clipboard, the
 * monitors and one shared window. Fails with what to install when the cross-compiler is missing.
 */
export async function buildDesktopHelper(dir: string): Promise<string> {
  const output = join(dir, DESKTOP_HELPER_FILE);
  try {
    await execFileAsync(MINGW_GCC, [
      '-O2',
      '-s',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-o',
      output,
      DESKTOP_HELPER_SOURCE,
      '-ldwmapi',
      '-lgdi32',
    ]);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT')
      throw new Error(
        `${MINGW_GCC} is needed to build the Windows desktop helper: apt-get install --no-install-recommends gcc-mingw-w64-x86-64 (.ci/run does).`,
      );
    throw error;
  }
  return output;
}

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The C source of the Windows service host (see the file's header for what it does). */
export const SERVICE_HOST_SOURCE = new URL('../../agent/device/windows/service-host.c', import.meta.url)
  .pathname;
/** Its sub-commands about the user at the console (session, token, notices). */
const USER_SESSION_SOURCE = new URL('../../agent/device/windows/user-session.c', import.meta.url).pathname;
/** Debian's cross-compiler for 64-bit Windows (package gcc-mingw-w64-x86-64). */
const MINGW_GCC = 'x86_64-w64-mingw32-gcc';

/**
 * Compiles the Windows service host (`lifeline-service.exe`, about 20 KB) into `dir`; its path. It is
 * embedded in the Windows agent, which writes it beside itself when installed as a service.
 * Fails with what to install when the cross-compiler is missing.
 */
export async function buildServiceHost(dir: string): Promise<string> {
  const output = join(dir, 'lifeline-service.exe');
  try {
    await execFileAsync(MINGW_GCC, [
      '-municode',
      '-O2',
      '-s',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-o',
      output,
      SERVICE_HOST_SOURCE,
      USER_SESSION_SOURCE,
      '-lwtsapi32',
      '-luserenv',
    ]);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT')
      throw new Error(
        `${MINGW_GCC} is needed to build the Windows service host: apt-get install --no-install-recommends gcc-mingw-w64-x86-64 (.ci/run does).`,
      );
    throw error;
  }
  return output;
}

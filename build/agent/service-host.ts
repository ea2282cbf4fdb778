import { join } from 'node:path';
import { compileWithMingw } from './mingw.ts';

/** The C source of the Windows service host (see the file's header for what it does). */
export const SERVICE_HOST_SOURCE = new URL('../../agent/device/windows/service-host.c', import.meta.url)
  .pathname;
/** Its sub-commands about the user at the console (session, token, notices). */
const USER_SESSION_SOURCE = new URL('../../agent/device/windows/user-session.c', import.meta.url).pathname;
/** Its sub-commands about a file's security descriptor (the presence proof's). */
const FILE_SECURITY_SOURCE = new URL('../../agent/device/windows/file-security.c', import.meta.url).pathname;
/**
 * Compiles the Windows service host (`lifeline-service.exe`, about 20 KB) into `dir`; its path. It is
 * embedded in the Windows agent, which writes it beside itself when installed as a service.
 * Fails with what to install when the cross-compiler is missing.
 */
export async function buildServiceHost(dir: string): Promise<string> {
  const output = join(dir, 'lifeline-service.exe');
  await compileWithMingw(
    'the Windows service host',
    output,
    [SERVICE_HOST_SOURCE, USER_SESSION_SOURCE, FILE_SECURITY_SOURCE],
    ['-lwtsapi32', '-luserenv'],
    ['-municode'],
  );
  return output;
}

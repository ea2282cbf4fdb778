import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { decodeToolOutput } from '../windows-commands.ts';
import { serviceHostExecutable } from './user-session.ts';
import { windowsLayout } from './windows-service.ts';

/** How long the service host may take to read or set a file's permissions, in milliseconds. */
const SECURITY_TIMEOUT_MS = 10_000;
/** The accounts that may own or change the presence proof: SYSTEM and the Administrators group. */
export const SYSTEM_ACCOUNTS: readonly string[] = ['S-1-5-18', 'S-1-5-32-544'];

const fileSecuritySchema = z.object({
  owner: z.string(),
  writers: z.array(z.string()),
});
/** A file's owner and every account allowed to change it (SIDs), as `lifeline-service.exe security` says. */
export type FileSecurity = z.infer<typeof fileSecuritySchema>;

/**
 * Gives the file at `path` its own permissions, inheriting none from its folder: owned by
 * Administrators, SYSTEM and Administrators full control, Users read (`lifeline-service.exe protect`,
 * file-security.c). Throws when the service host is missing or cannot set them.
 */
export function protectForUsersToRead(path: string): void {
  const host = serviceHostExecutable();
  if (!host) throw new Error('the service host (lifeline-service.exe) is missing');
  execFileSync(host, ['protect', path], { timeout: SECURITY_TIMEOUT_MS, windowsHide: true, stdio: 'ignore' });
}

/**
 * The owner and writers of the file at `path`, as the installed service host reads them (an
 * administrator put it in Program Files); undefined when there is none (no resident agent here) or
 * the file's permissions cannot be read.
 */
export function fileSecurity(path: string): FileSecurity | undefined {
  const host = windowsLayout().serviceHost;
  if (!existsSync(host)) return undefined;
  try {
    const output = execFileSync(host, ['security', path], {
      timeout: SECURITY_TIMEOUT_MS,
      windowsHide: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return fileSecuritySchema.parse(JSON.parse(decodeToolOutput(output).trim()));
  } catch {
    return undefined;
  }
}

/** Whether `security` is the system's own: owned by SYSTEM or Administrators, and changeable by them alone. */
export function onlySystemMayChange(security: FileSecurity | undefined): boolean {
  if (!security) return false;
  return (
    SYSTEM_ACCOUNTS.includes(security.owner) &&
    security.writers.every((writer) => SYSTEM_ACCOUNTS.includes(writer))
  );
}

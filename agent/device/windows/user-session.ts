import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { win32 } from 'node:path';
import { z } from 'zod';
import { ownExecutable } from '../../packaging/own-executable.ts';
import { isPackaged, SERVICE_HOST_ASSET, writeAsset } from '../../packaging/sea-assets.ts';
import { decodeToolOutput } from '../windows-commands.ts';

/** How long one sub-command of the service host (console-user, notify) may take, in milliseconds. */
const HOST_COMMAND_TIMEOUT_MS = 10_000;
/** The title of a notice on a Windows desktop (what `xdotool search --name` finds under Wine). */
export const WINDOWS_NOTICE_TITLE = 'Lifeline';

/**
 * The service host (`lifeline-service.exe`, service-host.c and user-session.c): the one `install` put
 * beside the installed agent (the file the service runs, {@link ownExecutable}); otherwise the one this
 * agent carries, written beside its runtime (under the Windows launcher, into the work directory, which
 * goes with the run). Undefined outside the packaged Windows agent.
 */
export function serviceHostExecutable(): string | undefined {
  if (process.platform !== 'win32') return undefined;
  const installed = win32.join(win32.dirname(ownExecutable()), SERVICE_HOST_ASSET);
  if (existsSync(installed)) return installed;
  if (!isPackaged()) return undefined;
  const path = win32.join(win32.dirname(process.execPath), SERVICE_HOST_ASSET);
  if (existsSync(path)) return path;
  try {
    writeAsset(SERVICE_HOST_ASSET, path);
    return path;
  } catch {
    return undefined;
  }
}

const consoleUserSchema = z.object({
  session: z.number().int(),
  user: z.string().min(1).max(256).optional(),
  domain: z.string().max(256).optional(),
  sid: z
    .string()
    .regex(/^S-1-[\d-]+$/)
    .optional(),
});

/** Who is logged in at the active console session of a Windows device. */
export interface WindowsConsoleUser {
  session: number;
  user: string;
  domain: string;
  /** Their security identifier: their registry hive is `HKU\<sid>`. */
  sid: string | undefined;
}

/**
 * The user logged in at the active console session (`lifeline-service.exe console-user`:
 * WTSGetActiveConsoleSessionId and WTSQuerySessionInformationW); undefined when nobody is, or
 * where the service host cannot be run.
 */
export function windowsConsoleUser(): WindowsConsoleUser | undefined {
  const host = serviceHostExecutable();
  if (!host) return undefined;
  try {
    // Its wprintf writes UTF-16 to a pipe (Node's are named pipes), 8-bit text to others.
    const output = execFileSync(host, ['console-user'], {
      timeout: HOST_COMMAND_TIMEOUT_MS,
      windowsHide: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const parsed = consoleUserSchema.parse(JSON.parse(decodeToolOutput(output).trim()));
    if (!parsed.user) return undefined;
    return { session: parsed.session, user: parsed.user, domain: parsed.domain ?? '', sid: parsed.sid };
  } catch {
    return undefined;
  }
}

/**
 * The words that start a command as the console user in their session (the command's own words
 * appended), through the service host: `run-in-session` hidden, its output in the service's log;
 * `open-in-session` in a console window on the user's desktop. Undefined when nobody is logged in.
 */
export function inUserSession(visible: boolean): readonly string[] | undefined {
  const host = serviceHostExecutable();
  if (!host || !windowsConsoleUser()) return undefined;
  return [host, visible ? 'open-in-session' : 'run-in-session'];
}

/**
 * Shows `text` on the console user's desktop without waiting for them (`lifeline-service.exe
 * notify`: WTSSendMessageW, else a message box started in their session); whether it was shown.
 * Quotes become typographic ones: the text travels inside a quoted argument of a command line.
 */
export function notifyWindowsUser(text: string): boolean {
  const host = serviceHostExecutable();
  if (!host) return false;
  const run = spawnSync(
    host,
    ['notify', WINDOWS_NOTICE_TITLE, text.replaceAll('"', '\u201d').replace(/\\+$/, '')],
    {
      timeout: HOST_COMMAND_TIMEOUT_MS,
      windowsHide: true,
      stdio: 'ignore',
    },
  );
  return run.status === 0;
}

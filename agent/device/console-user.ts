import { execFileSync } from 'node:child_process';
import { windowsConsoleUser } from './windows/user-session.ts';

/** Lines of `who` that are a seat at the machine rather than a remote login. */
const CONSOLE_LINE = /^(:\d+|tty\d+|console|seat\d+)$/;

/**
 * The user logged in at the device's console (a graphical seat or a local terminal), from `who`
 * (on Windows: the active console session's, windows/user-session.ts); undefined when nobody is,
 * or where `who` does not exist.
 */
export function consoleUser(): string | undefined {
  if (process.platform === 'win32') return windowsConsoleUser()?.user;
  return consoleSeat()?.user;
}

/** A local account, as `getent passwd` and `id -G` know it: what a process needs to run as that user. */
export interface Account {
  user: string;
  uid: number;
  gid: number;
  /** Every group the user is in, the primary one first (what a login gives them; `initgroups`). */
  groups: number[];
  home: string;
}

/** The account of the console user ({@link consoleUser}), or undefined when nobody is logged in. */
export function consoleAccount(): Account | undefined {
  const user = consoleUser();
  if (!user) return undefined;
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', user], { encoding: 'utf8', timeout: 2_000 });
  } catch {
    return undefined;
  }
  const [, , uid, gid, , home] = line.trim().split(':');
  if (!home || !Number.isInteger(Number(uid)) || !Number.isInteger(Number(gid))) return undefined;
  return { user, uid: Number(uid), gid: Number(gid), groups: groupsOf(user, Number(gid)), home };
}

/**
 * The groups `user` is in, `gid` first, from `id -G` (which reads /etc/group, NSS included): Node
 * has no `initgroups`, and `setgroups([gid])` alone would drop the user's other groups.
 */
function groupsOf(user: string, gid: number): number[] {
  let output = '';
  try {
    output = execFileSync('id', ['-G', '--', user], { encoding: 'utf8', timeout: 2_000 });
  } catch {
    // No `id`: the primary group only.
  }
  const groups = [gid];
  for (const word of output.trim().split(/\s+/)) {
    const group = Number(word);
    if (word && Number.isInteger(group) && !groups.includes(group)) groups.push(group);
  }
  return groups;
}

/** The X display of the graphical seat (`:0`), when the console user is logged in at one. */
export function consoleDisplay(): string | undefined {
  const terminal = consoleSeat()?.terminal;
  return terminal?.startsWith(':') ? terminal : undefined;
}

function consoleSeat(): { user: string; terminal: string } | undefined {
  let output: string;
  try {
    output = execFileSync('who', [], {
      encoding: 'utf8',
      timeout: 2_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
  for (const line of output.split('\n')) {
    const [user, terminal] = line.trim().split(/\s+/);
    if (user && terminal && CONSOLE_LINE.test(terminal)) return { user, terminal };
  }
  return undefined;
}

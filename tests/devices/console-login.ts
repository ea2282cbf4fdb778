import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';

/** Where `who` reads who is logged in. */
const UTMP = '/var/run/utmp';

/** The unprivileged user a console-user test logs in at the device's console. */
export interface ConsoleUser {
  readonly name: string;
  /** A group of the user's besides their own (a supplementary group). */
  readonly extraGroup: string;
  /** Their uid and home, as `getent passwd` says. */
  uid(): number;
  home(): string;
  /** Logs the user in at `line` (`tty7`, or an X display such as `:5`), as `who` sees it. */
  logIn(line?: string): void;
  /** Nobody is logged in any more. */
  logOutAll(): void;
}

const exists = (kind: 'passwd' | 'group', name: string) => {
  try {
    execFileSync('getent', [kind, name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/**
 * Registers hooks that create the user `name` (when absent) in a supplementary group `extraGroup`,
 * and put back the utmp file afterwards. utmpdump reads the fields as it writes them: the pid with
 * at least five digits and the time with microseconds (`,123000+00:00`); otherwise it stops at
 * "Extraneous newline" or crashes.
 */
export function useConsoleUser(name = 'lifeline-desk', extraGroup = 'lifeline-ledger'): ConsoleUser {
  let createdUser = false;
  let createdGroup = false;
  let utmpBefore: Buffer | undefined;
  before(() => {
    if (!exists('passwd', name)) {
      execFileSync('useradd', ['--create-home', '--shell', '/bin/bash', name]);
      createdUser = true;
    }
    if (!exists('group', extraGroup)) {
      execFileSync('groupadd', [extraGroup]);
      createdGroup = true;
    }
    execFileSync('usermod', ['--append', '--groups', extraGroup, name]);
    utmpBefore = existsSync(UTMP) ? readFileSync(UTMP) : undefined;
  });
  after(() => {
    if (utmpBefore) execFileSync('cp', ['/dev/stdin', UTMP], { input: utmpBefore });
    else rmSync(UTMP, { force: true });
    if (createdUser) execFileSync('userdel', ['--remove', name], { stdio: 'ignore' });
    if (createdGroup) execFileSync('groupdel', [extraGroup], { stdio: 'ignore' });
  });
  const passwd = () => execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
  return {
    name,
    extraGroup,
    uid: () => Number(passwd()[2]),
    home: () => passwd()[5]!,
    logIn(line = 'tty7') {
      const time = new Date().toISOString().replace(/\.(\d{3})Z$/, ',$1000+00:00');
      const record = `[7] [${String(process.pid).padStart(5, '0')}] [${line.slice(-4).padEnd(4)}] [${name}] [${line.padEnd(12)}] [                    ] [0.0.0.0        ] [${time}]\n`;
      execFileSync('utmpdump', ['-r', '-o', UTMP], { input: record, stdio: ['pipe', 'ignore', 'ignore'] });
    },
    logOutAll() {
      rmSync(UTMP, { force: true });
    },
  };
}

import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

/** Every agent's private directory is named this plus random characters, in the system temp dir. */
export const WORK_DIR_PREFIX = 'lifeline-agent-';
/** Written first thing into a work dir: which process owns it. */
export const OWNER_FILE = 'owner.json';
/**
 * A directory without a readable owner file is left alone this long, in milliseconds: it may belong
 * to an agent that is starting right now and has not written the file yet.
 */
export const OWNERLESS_GRACE_MS = 10 * 60_000;

/** The private directory one agent run unpacks its assets into. */
export interface WorkDir {
  path: string;
  /** Removes the directory and everything in it; safe to call twice. */
  remove(): void;
}

/**
 * Creates this run's private directory: mode 0700 (mkdtemp's default, enforced again in case of an
 * unusual umask), with an owner file naming this process so that a later run can tell it is stale.
 */
export function createWorkDir(parent: string = tmpdir()): WorkDir {
  const path = mkdtempSync(join(parent, WORK_DIR_PREFIX));
  chmodSync(path, 0o700);
  writeFileSync(join(path, OWNER_FILE), JSON.stringify({ pid: process.pid, startedAt: Date.now() }), {
    mode: 0o600,
  });
  return workDirAt(path);
}

/**
 * Adopts the work directory the Windows launcher made and unpacked the runtime into
 * (`windows-launcher.c`): this run's assets go beside the runtime, and one directory goes at the end.
 * Only a real directory named like ours, directly in `parent`, with its owner file, is taken;
 * anything else gives undefined (and the caller makes its own).
 */
export function adoptWorkDir(
  path: string,
  parent: string = tmpdir(),
): (WorkDir & { launcherPid: number }) | undefined {
  const full = resolve(path);
  if (!basename(full).startsWith(WORK_DIR_PREFIX) || resolve(dirname(full)) !== resolve(parent))
    return undefined;
  try {
    const owner = lstatSync(full).isDirectory() ? readOwner(full) : undefined;
    return owner ? { ...workDirAt(full), launcherPid: owner.pid } : undefined;
  } catch {
    return undefined;
  }
}

function workDirAt(path: string): WorkDir {
  return {
    path,
    remove() {
      rmSync(path, { recursive: true, force: true, maxRetries: 2 });
    },
  };
}

/** Whether a process with this id exists. EPERM means it exists but belongs to someone else. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the work directories that earlier agent runs left behind when they crashed or were killed:
 * those whose owner process is gone, and ownerless ones older than {@link OWNERLESS_GRACE_MS}. Only
 * real directories owned by this user are touched (never a symlink someone planted in a shared /tmp).
 * Call it before creating this run's own directory: one that names this very process as its owner
 * is then stale too, left by a killed agent whose pid this process got again (Windows and Wine reuse
 * process ids soon, Wine at once). Another process with a recycled pid keeps a stale directory until
 * that process ends too; it is removed by a later run. Under the Windows launcher, `self` also names
 * the launcher (the owner of the directory this run adopted, `keep`): Wine gives a killed launcher's
 * pid to the next launcher at once.
 *
 * @returns the directories removed.
 */
export function cleanStaleWorkDirs(
  parent: string = tmpdir(),
  isRunning: (pid: number) => boolean = processExists,
  now: number = Date.now(),
  self: number | readonly number[] = process.pid,
  keep?: string,
): string[] {
  const selves = typeof self === 'number' ? [self] : self;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return removed;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    if (!name.startsWith(WORK_DIR_PREFIX)) continue;
    const path = join(parent, name);
    if (keep !== undefined && resolve(path) === resolve(keep)) continue;
    try {
      const stat = lstatSync(path);
      if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
      const owner = readOwner(path);
      const stale = owner
        ? selves.includes(owner.pid) || !isRunning(owner.pid)
        : now - stat.mtimeMs > OWNERLESS_GRACE_MS;
      if (!stale) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Raced with another agent cleaning the same directory, or not ours to remove: leave it.
    }
  }
  return removed;
}

function readOwner(dir: string): { pid: number } | undefined {
  try {
    const owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as { pid?: unknown };
    return typeof owner.pid === 'number' && Number.isInteger(owner.pid) && owner.pid > 0
      ? { pid: owner.pid }
      : undefined;
  } catch {
    return undefined;
  }
}

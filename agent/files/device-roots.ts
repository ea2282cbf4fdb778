import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import type { Policy } from '../../protocol/index.ts';
import type { FileHost } from '../core/ports.ts';
import { createAllRootsFileHost, createNodeFileHost } from './node-file-host.ts';

/** File system types of /proc/mounts that hold no user files. */
const PSEUDO_FS =
  /^(proc|sysfs|tmpfs|devtmpfs|devpts|cgroup2?|securityfs|pstore|bpf|debugfs|tracefs|configfs|fusectl|mqueue|hugetlbfs|autofs|binfmt_misc|efivarfs|rpc_pipefs|nsfs|ramfs|selinuxfs|squashfs|overlay|fuse\.gvfsd-fuse|fuse\.portal)$/;

/** The octal escapes /proc/mounts writes for spaces, tabs, newlines and backslashes. */
const unescapeMount = (field: string) =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));

/**
 * The mount points in `/proc/mounts` text that hold user files: pseudo file systems are left out,
 * except an overlay (a container's) mounted at `/`. In order, each once.
 */
export function mountRoots(procMounts: string): string[] {
  const roots: string[] = [];
  for (const line of procMounts.split('\n')) {
    const [, mountPoint, type] = line.split(' ');
    if (!mountPoint || !type) continue;
    const target = unescapeMount(mountPoint);
    if (PSEUDO_FS.test(type) && !(type === 'overlay' && target === '/')) continue;
    if (!roots.includes(target)) roots.push(target);
  }
  return roots;
}

/** This device's roots: Windows its drive letters, elsewhere its mounts; each real and a folder. */
export function deviceRoots(): string[] {
  const candidates =
    process.platform === 'win32'
      ? [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'].map((letter) => `${letter}:\\`)
      : existsSync('/proc/mounts')
        ? mountRoots(readFileSync('/proc/mounts', 'utf8'))
        : ['/'];
  const roots: string[] = [];
  for (const candidate of candidates) {
    try {
      const real = realpathSync(candidate);
      if (statSync(real).isDirectory() && !roots.includes(real)) roots.push(real);
    } catch {
      // An empty drive, or a mount this user cannot reach.
    }
  }
  return roots;
}

/**
 * The file host of a session: the shared folder `root`, or every root of the device once the signed
 * policy allows it (`filesAllRoots`) and the user grants it (`--files-all-roots`, or the consent
 * screen's key). Either alone gives the shared folder only.
 */
export function sessionFileHost(
  root: string,
  policy: Pick<Policy, 'filesAllRoots'>,
  userGrantsAllRoots: () => boolean,
  roots: () => string[] = deviceRoots,
): FileHost {
  const shared = createNodeFileHost(root);
  if (!policy.filesAllRoots) return shared;
  let all: FileHost | undefined;
  const host = () => {
    if (!userGrantsAllRoots()) return shared;
    all ??= createAllRootsFileHost(root, roots());
    return all;
  };
  return {
    root,
    list: (wirePath) => host().list(wirePath),
    stat: (wirePath) => host().stat(wirePath),
    openRead: (wirePath) => host().openRead(wirePath),
    openWrite: (wirePath) => host().openWrite(wirePath),
    rename: (from, to, options) => host().rename(from, to, options),
    copy: (from, to) => host().copy(from, to),
    mkdir: (wirePath) => host().mkdir(wirePath),
    remove: (wirePath) => host().remove(wirePath),
  };
}

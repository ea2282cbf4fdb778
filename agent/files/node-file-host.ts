import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import {
  constants,
  copyFile,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rename,
  rmdir,
  stat,
  symlink,
  unlink,
} from 'node:fs/promises';
import path from 'node:path';
import type { FileEntry } from '../../protocol/index.ts';
import { ChannelFailure } from '../core/channel-failure.ts';
import type { FileHost, FileReader, FileStat, FileWriter } from '../core/ports.ts';
import { attempt, fsFailure } from './fs-failure.ts';
import { isInside, resolveSharedPath, wirePathSegments } from './shared-path.ts';

/** Bytes read at a time to hash a file. */
const HASH_BLOCK_BYTES = 1024 * 1024;
/** Entries whose details are read at once when listing a folder. */
const LIST_BATCH = 64;

function describe(stats: Stats): FileStat {
  const type = stats.isFile()
    ? 'file'
    : stats.isDirectory()
      ? 'directory'
      : stats.isSymbolicLink()
        ? 'link'
        : 'other';
  return { type, size: type === 'directory' ? 0 : stats.size, modifiedAt: Math.max(0, stats.mtimeMs) };
}

/**
 * A file's identity: its inode, size and the change and modification times in nanoseconds, hashed
 * so that none of them shows. Any write changes the times (at the file system's clock granularity).
 */
async function versionOf(handle: FileHandle): Promise<string> {
  const stats = await handle.stat({ bigint: true });
  const identity = [stats.dev, stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs].join(':');
  return createHash('sha256').update(identity).digest('hex').slice(0, 32);
}

async function sha256Of(handle: FileHandle): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(HASH_BLOCK_BYTES);
  for (let position = 0; ; ) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

/**
 * Copies `source` (described by `stats`) to `target`, which must not exist: a file's bytes, a folder
 * with everything in it, a link as the same link (never what it points to). Sockets, pipes and
 * devices are left out. Both paths are real and inside a root.
 */
async function copyEntry(source: string, target: string, stats: Stats): Promise<void> {
  if (stats.isSymbolicLink()) await symlink(await readlink(source), target);
  else if (stats.isFile()) await copyFile(source, target, constants.COPYFILE_EXCL);
  else if (stats.isDirectory()) {
    await mkdir(target);
    for (const name of await readdir(source)) {
      const child = path.join(source, name);
      await copyEntry(child, path.join(target, name), await lstat(child));
    }
  }
}

/**
 * The shared folder on this computer, with node:fs. `root` must be an absolute, real path (the CLI
 * resolves `--files-root` once at start-up). Every wire path goes through `resolveSharedPath`.
 */
export function createNodeFileHost(root: string): FileHost {
  return hostWith(
    root,
    (wirePath, followLast = true) => resolveSharedPath(root, wirePath, { followLast }),
    (real) => real === root,
  );
}

/** The real path a wire path names (`followLast` as in `ResolveOptions`), or a refusal. */
type Resolve = (wirePath: string, followLast?: boolean) => Promise<string>;

/**
 * A file host over what `resolve` reaches; `isRoot` tells a root (never deleted) from the rest.
 * `shown` is the path named to the operator as the host's root.
 */
function hostWith(shown: string, resolve: Resolve, isRoot: (real: string) => boolean): FileHost {
  return {
    root: shown,

    async list(wirePath) {
      const folder = await resolve(wirePath);
      const names = await attempt(wirePath, async () => {
        if (!(await stat(folder)).isDirectory()) {
          throw new ChannelFailure('NOT_A_FOLDER', `${wirePath || 'The shared folder'} is not a folder.`);
        }
        return readdir(folder);
      });
      const entries: FileEntry[] = [];
      for (let at = 0; at < names.length; at += LIST_BATCH) {
        const batch = await Promise.all(
          names.slice(at, at + LIST_BATCH).map(async (name) => {
            try {
              return { name, ...describe(await lstat(path.join(folder, name))) };
            } catch {
              return undefined; // Gone since readdir.
            }
          }),
        );
        for (const entry of batch) if (entry) entries.push(entry);
      }
      return entries;
    },

    async stat(wirePath) {
      const real = await resolve(wirePath);
      try {
        return describe(await stat(real));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw fsFailure(error, wirePath);
      }
    },

    async openRead(wirePath): Promise<FileReader> {
      const real = await resolve(wirePath);
      return attempt(wirePath, async () => {
        // Checked before opening: opening a FIFO for reading would wait for a writer forever.
        if (!(await stat(real)).isFile())
          throw new ChannelFailure('NOT_A_FILE', `${wirePath} is not a file.`);
        const handle = await open(real, 'r');
        const stats = await handle.stat();
        return {
          size: stats.size,
          modifiedAt: Math.max(0, stats.mtimeMs),
          // Read after the size: a write in between shows as a changed version at the end.
          version: await versionOf(handle),
          currentVersion: () => versionOf(handle),
          async read(offset, length) {
            const buffer = Buffer.alloc(length);
            const { bytesRead } = await handle.read(buffer, 0, length, offset);
            return buffer.subarray(0, bytesRead);
          },
          sha256: () => sha256Of(handle),
          close: () => handle.close(),
        };
      });
    },

    async openWrite(wirePath): Promise<FileWriter> {
      // Uploads write their part file here: following a link named like it would write into
      // whatever file it points at, or be refused and leave the link to be deleted as a part.
      const real = await resolve(wirePath, false);
      return attempt(wirePath, async () => {
        const link = await lstat(real).then(
          (stats) => stats.isSymbolicLink(),
          () => false,
        );
        if (link) throw new ChannelFailure('NOT_A_FILE', `${wirePath} is a link.`);
        // O_NOFOLLOW (not on Windows) closes the gap between the check and the open.
        const handle = await open(real, constants.O_RDWR | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0));
        const stats = await handle.stat();
        if (!stats.isFile()) {
          await handle.close();
          throw new ChannelFailure('NOT_A_FILE', `${wirePath} is not a file.`);
        }
        return {
          size: stats.size,
          truncate: (size) => handle.truncate(size),
          async write(offset, data) {
            for (let done = 0; done < data.byteLength; ) {
              const { bytesWritten } = await handle.write(data, done, data.byteLength - done, offset + done);
              done += bytesWritten;
            }
          },
          sha256: () => sha256Of(handle),
          close: () => handle.close(),
        };
      });
    },

    async rename(from, to, { replace }) {
      const source = await resolve(from, false);
      const target = await resolve(to, replace);
      await attempt(from, () => lstat(source));
      if (!replace) {
        const taken = await lstat(target).then(
          () => true,
          () => false,
        );
        if (taken) throw new ChannelFailure('FILE_EXISTS', `${to} exists.`);
      }
      await attempt(to, () => rename(source, target));
    },

    async copy(from, to) {
      const source = await resolve(from, false);
      const target = await resolve(to, false);
      const stats = await attempt(from, () => lstat(source));
      const taken = await lstat(target).then(
        () => true,
        () => false,
      );
      if (taken) throw new ChannelFailure('FILE_EXISTS', `${to} exists.`);
      if (stats.isDirectory() && isInside(source, target)) {
        throw new ChannelFailure('VALIDATION_FAILED', `${from} cannot be copied into itself.`);
      }
      await attempt(to, () => copyEntry(source, target, stats));
    },

    async mkdir(wirePath) {
      const real = await resolve(wirePath);
      await attempt(wirePath, () => mkdir(real));
    },

    async remove(wirePath) {
      const real = await resolve(wirePath, false);
      if (isRoot(real)) throw new ChannelFailure('FORBIDDEN', 'The shared folder itself is not deleted.');
      await attempt(wirePath, async () => {
        if ((await lstat(real)).isDirectory()) await rmdir(real);
        else await unlink(real);
      });
    },
  };
}

/**
 * Every drive or mount of this device as a root (README "Files"): the first segment of a wire path
 * names the root (its absolute path, URI-encoded: `%2F` for `/`, `C%3A%5C` for `C:\`), the rest is
 * resolved inside it exactly as in a shared folder, so `..`, absolute paths and links out of the
 * root are refused. Listing the empty path lists the roots as folders. `roots` are absolute and real.
 */
export function createAllRootsFileHost(shown: string, roots: readonly string[]): FileHost {
  const named = new Map(roots.map((root) => [encodeURIComponent(root), root]));
  const resolve: Resolve = async (wirePath, followLast = true) => {
    const [first, ...rest] = wirePathSegments(wirePath);
    const root = first === undefined ? undefined : named.get(first);
    if (root === undefined) {
      throw new ChannelFailure(
        'PATH_OUTSIDE_FOLDER',
        `The path names no root of this device (${first ?? 'none'}); list the empty path for the roots.`,
      );
    }
    return resolveSharedPath(root, rest.join('/'), { followLast });
  };
  const host = hostWith(shown, resolve, (real) => roots.includes(real));
  const top = (wirePath: string) => wirePathSegments(wirePath).length === 0;
  return {
    ...host,
    list: async (wirePath) =>
      top(wirePath)
        ? [...named.keys()].map((name) => ({ name, type: 'directory' as const, size: 0, modifiedAt: 0 }))
        : host.list(wirePath),
    stat: async (wirePath) =>
      top(wirePath) ? { type: 'directory', size: 0, modifiedAt: 0 } : host.stat(wirePath),
  };
}

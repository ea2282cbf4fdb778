import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The launcher's source in the tree (its header describes the packed file). */
export const LINUX_LAUNCHER_SOURCE = new URL(
  '../../agent/packaging/launcher/linux-launcher.c',
  import.meta.url,
).pathname;
/** Ends the packed part of a file, before any stamp: then the frame's offset and length (u64 LE each). */
export const PACKED_MAGIC = 'LIFELINE-PACKED1';
/** Bytes of the packed footer: the magic, the offset and the length. */
export const PACKED_FOOTER_BYTES = PACKED_MAGIC.length + 16;
/**
 * zstd's settings for the runtime: level 15 with a 128 MiB long-distance window (`--long=27`, the
 * most the launcher accepts). Measured on the 112 MB Linux executable (2 cores, loaded): 34.0 MB and
 * 0.8 s to unpack, against xz -6's 27.5 MB and 3.6 s (xz -9e: 27.2 MB, 9.6 s): zstd keeps the start
 * fast and stays under the 40 MB goal.
 */
const ZSTD_ARGS = ['-15', '--long=27', '-T0', '-q', '-f'];
/** Compressed runtimes kept in the cache. */
const KEPT_FRAMES = 3;
/** Debian's static libzstd (package `libzstd-dev`). */
const LIBZSTD = '-l:libzstd.a';

/**
 * Compiles the Linux launcher (`agent/packaging/launcher/linux-launcher.c`) into `cacheDir`, once per
 * version of its source, and returns its path: static (glibc and libzstd included), so it runs on any
 * x64 Linux. Needs `cc` and `libzstd-dev`.
 */
export async function buildLinuxLauncher(cacheDir: string): Promise<string> {
  const source = readFileSync(LINUX_LAUNCHER_SOURCE);
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(cacheDir, `lifeline-launcher-${digest}`);
  const out = join(dir, 'lifeline-launcher');
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const partial = `${out}.${process.pid}.partial`;
  try {
    await execFileAsync('cc', [
      ...['-O2', '-static', '-s', '-Wall', '-Wextra', '-Werror', '-o', partial, LINUX_LAUNCHER_SOURCE],
      LIBZSTD,
    ]);
  } catch (error) {
    rmSync(partial, { force: true });
    const { stderr = '', code } = error as { stderr?: string; code?: unknown };
    if (code === 'ENOENT') throw new Error('the launcher needs a C compiler: apt install gcc libc6-dev');
    if (/zstd/.test(stderr))
      throw new Error(`the launcher needs libzstd's static library: apt install libzstd-dev\n${stderr}`);
    throw new Error(`could not compile the launcher:\n${stderr}`);
  }
  renameSync(partial, out);
  return out;
}

/**
 * Writes `out`: the launcher, then `executable` compressed with zstd, then the packed footer (see the
 * launcher's source). The control plane's stamp goes after it, as on any executable.
 *
 * @example
 * await packExecutable(await buildLinuxLauncher(cacheDir), 'work/lifeline-agent-linux-x64', 'work/packed');
 */
export async function packExecutable(
  launcher: string,
  executable: string,
  out: string,
  cacheDir: string,
): Promise<void> {
  const frame = await compressOnce(executable, cacheDir);
  const launcherBytes = readFileSync(launcher);
  const frameLength = statSync(frame).size;
  const footer = Buffer.alloc(PACKED_FOOTER_BYTES);
  footer.write(PACKED_MAGIC, 0, 'latin1');
  footer.writeBigUInt64LE(BigInt(launcherBytes.length), PACKED_MAGIC.length);
  footer.writeBigUInt64LE(BigInt(frameLength), PACKED_MAGIC.length + 8);
  const fd = openSync(out, 'w', 0o755);
  try {
    writeSync(fd, launcherBytes);
    writeSync(fd, readFileSync(frame));
    writeSync(fd, footer);
  } finally {
    closeSync(fd);
  }
}

/**
 * zstd of `executable`, kept in `cacheDir` under its SHA-256: level 15 takes minutes of CPU on a busy
 * 2-core machine, and an unchanged agent (tests build it once per run) need not pay that again.
 * The {@link KEPT_FRAMES} newest frames are kept (the agent and a test's probe build alternate).
 */
async function compressOnce(executable: string, cacheDir: string): Promise<string> {
  const digest = createHash('sha256').update(readFileSync(executable)).digest('hex').slice(0, 32);
  const dir = join(cacheDir, 'packed-runtime');
  const frame = join(dir, `${digest}.zst`);
  if (existsSync(frame)) return frame;
  mkdirSync(dir, { recursive: true });
  // Other builds may share this cache (worktrees link one node_modules): their partial files stay.
  const frames = readdirSync(dir)
    .filter((name) => name.endsWith('.zst'))
    .flatMap((name) => {
      const path = join(dir, name);
      const mtimeMs = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
      return mtimeMs === undefined ? [] : [{ path, mtimeMs }];
    })
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const old of frames.slice(KEPT_FRAMES - 1)) rmSync(old.path, { force: true });
  const partial = `${frame}.${process.pid}.partial`;
  try {
    await execFileAsync('zstd', [...ZSTD_ARGS, '-o', partial, executable]);
  } catch (error) {
    rmSync(partial, { force: true });
    if ((error as { code?: unknown }).code === 'ENOENT')
      throw new Error('packing the agent needs zstd: apt install zstd');
    throw error;
  }
  renameSync(partial, frame);
  return frame;
}

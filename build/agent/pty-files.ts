import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AgentPlatform } from '../../protocol/agent-stamp.ts';

/**
 * The node-pty version the executables are made with. The packaged agent adapts one of its private
 * methods to running inside a single executable (see `agent/packaging/pty-package.ts`), so another version must be
 * checked before it ships: the build refuses it.
 */
export const PTY_VERSION = '1.1.0';

/** Where node-pty unpacks inside the work directory: its package root. */
export const PTY_PACKAGE_DIR = 'node-pty';

/** One file of the installed node-pty that the executable carries. */
export interface PtyPackageFile {
  /** Where it is installed. */
  source: string;
  /** Its path inside the package, `/`-separated (`lib/index.js`), kept as node-pty expects it. */
  path: string;
}

/**
 * The native parts node-pty loads on each platform, relative to its package. Linux has no prebuild:
 * `npm install` compiles `build/Release/pty.node` (N-API, so the Node 20 build loads in the Node 22
 * runtime). Windows uses the published prebuilds: ConPTY (`conpty.node`, and the console-list add-on
 * its kill path uses) and, for Windows older than build 18309, winpty (`pty.node`, its DLL and its
 * agent process, which the DLL finds beside itself). Not carried: the debug symbols (`*.pdb`, 28 MB)
 * and `conpty/` (Microsoft's newer OpenConsole, 1.2 MB), used only with node-pty's `useConptyDll`.
 */
const NATIVE_FILES: Record<AgentPlatform, readonly string[]> = {
  'linux-x64': ['build/Release/pty.node'],
  'win-x64': [
    'prebuilds/win32-x64/conpty.node',
    'prebuilds/win32-x64/conpty_console_list.node',
    'prebuilds/win32-x64/pty.node',
    'prebuilds/win32-x64/winpty.dll',
    'prebuilds/win32-x64/winpty-agent.exe',
    'deps/winpty/LICENSE',
  ],
};

/** The installed node-pty's package directory. */
export function installedPtyDir(): string {
  return dirname(createRequire(import.meta.url).resolve('node-pty/package.json'));
}

/**
 * The node-pty files one platform's executable carries: `package.json` (its `main`), the licence, the
 * compiled JavaScript of `lib/` (its worker and helper scripts included, since node-pty starts them by
 * path; not its tests), and that platform's native parts. About 60 kB of JavaScript plus 72 kB
 * (Linux) or 1.3 MB (Windows) of native code.
 *
 * @throws when the installed node-pty is another version, or a native part is missing (on Linux,
 *   `npm install --ignore-scripts` skips the compilation: `npm rebuild node-pty` makes it).
 */
export function ptyPackageFiles(
  platform: AgentPlatform,
  packageDir: string = installedPtyDir(),
): PtyPackageFile[] {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    version?: unknown;
  };
  if (manifest.version !== PTY_VERSION)
    throw new Error(
      `node-pty ${String(manifest.version)} is installed, but the agent executable is made with ${PTY_VERSION}: check agent/packaging/pty-package.ts against it, then update PTY_VERSION`,
    );
  const paths = ['package.json', 'LICENSE', ...libScripts(packageDir), ...NATIVE_FILES[platform]];
  return paths.map((path) => {
    const source = join(packageDir, ...path.split('/'));
    if (!existsSync(source))
      throw new Error(
        `node-pty is missing ${path} for ${platform}${path.startsWith('build/') ? ': run npm rebuild node-pty' : ''}`,
      );
    return { source, path };
  });
}

/** `lib/**\/*.js` without the tests, as `/`-separated paths. */
function libScripts(packageDir: string): string[] {
  return readdirSync(join(packageDir, 'lib'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.js') && !name.endsWith('.test.js'))
    .map((name) => `lib/${name.split(/[\\/]/).join('/')}`)
    .sort();
}

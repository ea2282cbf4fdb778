import { join } from 'node:path';
import { compileWithMingw } from './mingw.ts';

/** The C source of the Windows agent's desktop helper (see the file's header for its sub-commands). */
export const DESKTOP_HELPER_SOURCE = new URL('../../agent/platform/windows/desktop-helper.c', import.meta.url)
  .pathname;
/** Its `capture` command: GDI (capture.c) and DXGI Desktop Duplication (capture-dxgi.c). */
const CAPTURE_SOURCES = ['capture.c', 'capture-dxgi.c'].map(
  (file) => new URL(`../../agent/platform/windows/${file}`, import.meta.url).pathname,
);
/** Its file name, in the executable's assets and in the agent's work directory. */
export const DESKTOP_HELPER_FILE = 'lifeline-desktop.exe';

/**
 * Compiles the Windows desktop helper (`lifeline-desktop.exe`, about 50 KB) into `dir`; its path. It
 * is embedded in the Windows agent, which unpacks it into its work directory for the clipboard, the
 * monitors, one shared window, the guidance overlay and screen capture. Fails with what to install when the
 * cross-compiler is missing.
 */
export async function buildDesktopHelper(dir: string): Promise<string> {
  const output = join(dir, DESKTOP_HELPER_FILE);
  await compileWithMingw(
    'the Windows desktop helper',
    output,
    [DESKTOP_HELPER_SOURCE, ...CAPTURE_SOURCES],
    ['-ldwmapi', '-lgdi32', '-ld3d11', '-ldxgi'],
  );
  return output;
}

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PlatformError } from './errors.ts';

/** The node-pty module, as the agent uses it. */
export type PtyModule = typeof import('node-pty');

let loaded: PtyModule | undefined;
/** A directory holding an unpacked copy of the node-pty package: set by the packaged agent. */
let packageDir: string | undefined;

/**
 * Loads node-pty from this unpacked package directory instead of `node_modules`. The single
 * executable has no `node_modules`: it unpacks node-pty (its JavaScript and native parts) into its
 * private directory and points here before any shell opens.
 */
export function usePtyPackage(dir: string): void {
  packageDir = dir;
  loaded = undefined;
}

/** Loads node-pty once; a clear error says what is missing when it cannot be loaded. */
export function loadPty(): PtyModule {
  if (loaded) return loaded;
  try {
    const require = createRequire(packageDir ? join(packageDir, 'package.json') : import.meta.url);
    loaded = require(packageDir ?? 'node-pty') as PtyModule;
    return loaded;
  } catch (error) {
    throw new PlatformError(
      'pty-missing',
      `Terminals are not available on this device: node-pty could not be loaded (${error instanceof Error ? error.message : String(error)}).`,
      { cause: error },
    );
  }
}

import { fileURLToPath } from 'node:url';
import { ownExecutable } from '../packaging/own-executable.ts';
import { isPackaged } from '../packaging/sea-assets.ts';

/**
 * How to run this very agent again: the packaged executable itself, or, for an agent run from
 * source (development and tests), this Node with tsx and this source tree's main module.
 */
export function agentCommandLine(): { command: string; args: string[] } {
  if (isPackaged()) return { command: ownExecutable(), args: [] };
  return {
    command: process.execPath,
    args: ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('../main.ts', import.meta.url))],
  };
}

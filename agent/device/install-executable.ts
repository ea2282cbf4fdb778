import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isPackaged } from '../packaging/sea-assets.ts';
import { agentCommandLine } from './agent-command.ts';

/**
 * Installs the resident agent's program at `path` (Linux and macOS). The packaged agent copies
 * itself; an agent run from source installs a launcher that runs this source tree with the same
 * Node (development and tests).
 */
export function installExecutable(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const self = agentCommandLine();
  if (isPackaged()) {
    copyFileSync(self.command, path);
  } else {
    const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
    writeFileSync(path, `#!/bin/sh\nexec ${[self.command, ...self.args].map(quote).join(' ')} "$@"\n`);
  }
  chmodSync(path, 0o755);
}

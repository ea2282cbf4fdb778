import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/**
 * A fresh temporary folder for the calling `describe`, with an empty folder `shared` in it for an
 * agent's `--files-root`; removed after the block (register it after what still uses the folder).
 * @example
 * const ui = useAgentConsole({ width: 640, height: 480 });
 * const { scratch, shared } = useSharedFolder('file-manager');
 */
export function useSharedFolder(name: string): { scratch: string; shared: string } {
  const scratch = mkdtempSync(join(tmpdir(), `lifeline-e2e-${name}-`));
  const shared = join(scratch, 'shared');
  mkdirSync(shared, { recursive: true });
  after(() => {
    rmSync(scratch, { recursive: true, force: true });
  });
  return { scratch, shared };
}

import type { FileHost } from '../core/ports.ts';
import { createNodeFileHost } from '../files/node-file-host.ts';
import { loadPty } from '../platform/pty-module.ts';
import { createCommandHost } from '../shell/command-host.ts';
import type { LiveProcesses } from '../shell/live-processes.ts';
import { createPtyShellHost } from '../shell/pty-shell-host.ts';

/**
 * Files, commands and (where node-pty loads) interactive shells in the shared folder. Without
 * node-pty the agent still runs commands and moves files, and does not offer shells in its hello.
 */
export function channelHosts(
  root: string,
  live: LiveProcesses,
  status: (text: string) => void,
  files: FileHost = createNodeFileHost(root),
) {
  let shells: ReturnType<typeof createPtyShellHost> | undefined;
  try {
    loadPty();
    shells = createPtyShellHost({ root, live });
  } catch (error) {
    status(`Interactive shells are not available: ${(error as Error).message}`);
  }
  return {
    files,
    commands: createCommandHost({ root, live }),
    ...(shells ? { shells } : {}),
  };
}

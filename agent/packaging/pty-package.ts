import { createRequire } from 'node:module';
import { join } from 'node:path';
import { usePtyPackage } from '../platform/pty-module.ts';

/** The part of node-pty's `WindowsPtyAgent` that this file replaces. */
interface ConsoleListing {
  _innerPid: number;
  _getConsoleProcessList(): Promise<number[]>;
}

/**
 * Points the agent at the node-pty package the single executable unpacked into `dir`, adapted to
 * running inside it (see {@link withoutConsoleListFork}). Called before anything can open a terminal.
 */
export function usePackagedPty(dir: string, platform: NodeJS.Platform = process.platform): void {
  if (platform === 'win32') withoutConsoleListFork(dir);
  usePtyPackage(dir);
}

/**
 * Keeps node-pty from starting a second agent on Windows.
 *
 * When a ConPTY terminal is killed, node-pty lists the processes attached to its console in a helper
 * script it starts with `child_process.fork` (a process can attach to one console only, and the agent
 * keeps its own). `fork` runs `process.execPath`, which in a single executable is the agent itself:
 * the helper would be a second agent, given the script's path as an argument. The executable runs no
 * script it is given, on purpose (a signed program that runs any script is a gift to attackers), so
 * the list is the shell's own process instead: node-pty's own answer when the helper does not report
 * within 5 s. Closing the pseudo console, which node-pty does next, ends the processes still attached.
 *
 * Patches the module instance `loadPty()` gets: Node caches modules by file name, whichever `require`
 * loads them.
 *
 * @throws when this node-pty has no such helper method (another version: see `PTY_VERSION`).
 */
export function withoutConsoleListFork(dir: string): void {
  const require = createRequire(join(dir, 'package.json'));
  const { WindowsPtyAgent } = require('./lib/windowsPtyAgent.js') as {
    WindowsPtyAgent: { prototype: ConsoleListing };
  };
  if (typeof WindowsPtyAgent.prototype._getConsoleProcessList !== 'function')
    throw new Error('node-pty changed: WindowsPtyAgent has no _getConsoleProcessList to replace');
  WindowsPtyAgent.prototype._getConsoleProcessList = function (this: ConsoleListing) {
    return Promise.resolve([this._innerPid]);
  };
}

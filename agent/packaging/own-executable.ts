/**
 * Set by the packed Linux download's launcher (`agent/packaging/launcher/linux-launcher.c`): the file
 * the user ran. The runtime itself runs from memory there, so `process.execPath` names a memory file.
 */
export const LAUNCHER_ENV = 'LIFELINE_AGENT_EXECUTABLE';

/**
 * Read once, when this module loads, and taken out of the environment so that the shells and commands
 * the agent starts do not inherit it (running the agent again goes through the launcher, which sets it
 * anew).
 */
const launchedFrom = process.env[LAUNCHER_ENV] || undefined;
delete process.env[LAUNCHER_ENV];

/**
 * The agent's own file: what its stamp is read from, what deletes itself, what the resident install
 * copies and what runs the agent again. That is the launcher's file for a packed download, and
 * `process.execPath` otherwise (the Windows executable, or Node when run from source).
 */
export function ownExecutable(): string {
  return launchedFrom ?? process.execPath;
}

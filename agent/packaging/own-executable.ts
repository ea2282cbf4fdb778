/**
 * Set by the packed download's launcher (`agent/packaging/launcher/*-launcher.c`): the file the user
 * ran. The runtime itself runs from memory (Linux) or from the work directory (Windows) there, so
 * `process.execPath` does not name the download.
 */
export const LAUNCHER_ENV = 'LIFELINE_AGENT_EXECUTABLE';
/**
 * Set by the Windows launcher: the work directory it made and unpacked the runtime into, which this
 * run adopts for its assets so that its self-delete and the next run's leftover cleanup remove both.
 */
export const LAUNCHER_WORK_DIR_ENV = 'LIFELINE_AGENT_WORK_DIR';

/**
 * Read once, when this module loads, and taken out of the environment so that the shells and commands
 * the agent starts do not inherit them (running the agent again goes through the launcher, which sets
 * them anew).
 */
const launchedFrom = process.env[LAUNCHER_ENV] || undefined;
const launcherWorkDirPath = process.env[LAUNCHER_WORK_DIR_ENV] || undefined;
delete process.env[LAUNCHER_ENV];
delete process.env[LAUNCHER_WORK_DIR_ENV];

/**
 * The agent's own file: what its stamp is read from, what deletes itself, what the resident install
 * copies and what runs the agent again. That is the launcher's file for a packed download, and
 * `process.execPath` otherwise (Node when run from source).
 */
export function ownExecutable(): string {
  return launchedFrom ?? process.execPath;
}

/** The work directory the Windows launcher made for this run, if it made one. */
export function launcherWorkDir(): string | undefined {
  return launcherWorkDirPath;
}

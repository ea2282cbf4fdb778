import { tmpdir } from 'node:os';
import { useRobotjsAddon } from '../platform/robot.ts';
import { launcherWorkDir, ownExecutable } from './own-executable.ts';
import { type FoundStamp, readStamp } from './own-stamp.ts';
import { usePackagedPty } from './pty-package.ts';
import { isPackaged, unpackAssets } from './sea-assets.ts';
import { adoptWorkDir, cleanStaleWorkDirs, createWorkDir, processExists, type WorkDir } from './work-dir.ts';

/** What the single executable set up before the agent starts. */
export interface PackagedRun {
  /** This executable, which deletes itself when the session is over. */
  executable: string;
  /** The private directory the assets were unpacked into. */
  workDir: WorkDir;
  /** The stamp appended by the control plane that served this file; undefined for an unstamped build. */
  stamp: FoundStamp | undefined;
  /** Work directories of crashed or killed earlier runs that were removed. */
  staleRemoved: string[];
}

/**
 * Prepares a run of the single executable: removes what crashed earlier runs left behind, unpacks
 * the robotjs add-on, the screen's encoder and node-pty into a fresh private directory (on Windows
 * the one the launcher unpacked the runtime into), points the agent at them,
 * and reads the stamp. Returns undefined when the agent runs from source (`npm run agent`), where none of this
 * applies and nothing must be deleted.
 */
export function startPackagedRun(env: NodeJS.ProcessEnv = process.env): PackagedRun | undefined {
  if (!isPackaged()) return undefined;
  const fromLauncher = launcherWorkDir();
  const adopted = fromLauncher ? adoptWorkDir(fromLauncher) : undefined;
  const staleRemoved = adopted
    ? cleanStaleWorkDirs(
        tmpdir(),
        processExists,
        Date.now(),
        [process.pid, adopted.launcherPid],
        adopted.path,
      )
    : cleanStaleWorkDirs();
  const workDir = adopted ?? createWorkDir();
  try {
    const assets = unpackAssets(workDir.path);
    if (assets.robotjs) useRobotjsAddon(assets.robotjs);
    if (assets['node-pty']) usePackagedPty(assets['node-pty']);
    // The embedded ffmpeg wins over one on PATH, unless the user named another on purpose.
    if (assets.ffmpeg && !env['FFMPEG_PATH']) env['FFMPEG_PATH'] = assets.ffmpeg;
    if (assets.x264 && !env['LIFELINE_X264_PATH']) env['LIFELINE_X264_PATH'] = assets.x264;
    if (assets['desktop-helper']) env['LIFELINE_DESKTOP_HELPER'] = assets['desktop-helper'];
    const executable = ownExecutable();
    return { executable, workDir, stamp: readStamp(executable), staleRemoved };
  } catch (error) {
    workDir.remove();
    throw error;
  }
}

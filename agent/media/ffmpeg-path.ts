import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { KindedError } from '../core/errors.ts';

/** Where the ffmpeg binary was found. */
export type FfmpegSource = 'FFMPEG_PATH' | 'ffmpeg-static' | '@ffmpeg-installer' | 'PATH';

/** An ffmpeg binary and where it came from, worth logging once at start-up. */
export interface ResolvedFfmpeg {
  path: string;
  source: FfmpegSource;
}

/** Why no ffmpeg could be used. */
export type FfmpegNotFoundKind = 'invalid-ffmpeg-path' | 'not-found';

/** No usable ffmpeg binary; the message tells the user how to provide one. */
export class FfmpegNotFoundError extends KindedError<FfmpegNotFoundKind> {
  override readonly name = 'FfmpegNotFoundError';
}

/** True for an {@link FfmpegNotFoundError}. */
export function isFfmpegNotFoundError(error: unknown): error is FfmpegNotFoundError {
  return error instanceof FfmpegNotFoundError;
}

/**
 * Finds the ffmpeg binary to run, in this order: the `FFMPEG_PATH` environment variable, the optional
 * `ffmpeg-static` package, the `@ffmpeg-installer/ffmpeg` package, then `ffmpeg` on `PATH`.
 *
 * An explicit `FFMPEG_PATH` that is missing or not executable is an error rather than a reason to fall
 * back: the user asked for that binary, and silently running another would hide the mistake.
 *
 * @example
 * const ffmpeg = resolveFfmpeg();
 * log.info({ ffmpeg }, 'using ffmpeg');
 */
export function resolveFfmpeg(env: NodeJS.ProcessEnv = process.env): ResolvedFfmpeg {
  const { FFMPEG_PATH: explicit } = env;
  if (explicit) {
    const problem = executableProblem(explicit);
    if (problem) {
      throw new FfmpegNotFoundError(
        'invalid-ffmpeg-path',
        `FFMPEG_PATH is set to ${explicit}, but that ${problem}. Point FFMPEG_PATH at an ffmpeg binary, or unset it.`,
      );
    }
    return { path: explicit, source: 'FFMPEG_PATH' };
  }

  const fromStatic = loadOptional((require) => require('ffmpeg-static') as unknown);
  if (typeof fromStatic === 'string' && !executableProblem(fromStatic)) {
    return { path: fromStatic, source: 'ffmpeg-static' };
  }

  // @ffmpeg-installer/ffmpeg throws a bare string when its platform package is missing.
  const fromInstaller = loadOptional(
    (require) => (require('@ffmpeg-installer/ffmpeg') as { path?: unknown }).path,
  );
  if (typeof fromInstaller === 'string' && !executableProblem(fromInstaller)) {
    return { path: fromInstaller, source: '@ffmpeg-installer' };
  }

  const onPath = findOnPath('ffmpeg', env);
  if (onPath) return { path: onPath, source: 'PATH' };

  throw new FfmpegNotFoundError(
    'not-found',
    'ffmpeg was not found: the agent needs it to capture the screen. Install ffmpeg so that it is on PATH ' +
      '(apt install ffmpeg, brew install ffmpeg, winget install ffmpeg), or set FFMPEG_PATH to an ffmpeg binary.',
  );
}

/**
 * Finds an executable called `command` in the directories of `PATH`. Honours `PATHEXT`, which only
 * Windows sets, so `ffmpeg` also matches `ffmpeg.exe` there.
 */
export function findOnPath(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  // Windows spells the variable Path, and only Windows sets PATHEXT.
  const { PATH, Path, PATHEXT } = env;
  const dirs = (PATH ?? Path ?? '').split(delimiter).filter((dir) => dir !== '');
  const extensions = PATHEXT ? ['', ...PATHEXT.split(';').filter((ext) => ext !== '')] : [''];
  for (const dir of dirs) {
    for (const ext of extensions) {
      const candidate = join(dir, command + ext);
      if (!executableProblem(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Why `path` cannot be run, or undefined if it can. */
export function executableProblem(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'is not a file';
  } catch {
    return 'does not exist';
  }
  try {
    // On Windows X_OK only checks existence; there is no execute bit to check.
    accessSync(path, constants.X_OK);
  } catch {
    return 'is not executable';
  }
  return undefined;
}

function loadOptional(load: (require: NodeJS.Require) => unknown): unknown {
  try {
    return load(createRequire(import.meta.url));
  } catch {
    return undefined;
  }
}

import { executableProblem, FfmpegNotFoundError, resolveFfmpeg } from './ffmpeg-path.ts';

/** The programs the screen may be encoded with; `startScreenEncoder` picks one per platform. */
export interface EncoderPrograms {
  /** The agent's own H.264 encoder (Linux), see `X264FrameWriter`. */
  x264Path?: string;
  /** ffmpeg: Windows and macOS, and Linux when `lifeline-x264` is absent or ffmpeg was asked for. */
  ffmpegPath?: string;
}

/**
 * Finds the screen's encoders. `LIFELINE_X264_PATH` names `lifeline-x264` (the packaged Linux agent
 * sets it to the copy it unpacked); ffmpeg is found as `resolveFfmpeg` finds it. A user who sets
 * `FFMPEG_PATH` asks for that ffmpeg, so it is then the only encoder.
 *
 * Throws `FfmpegNotFoundError` when neither can be used, and when either variable names a file that
 * cannot be run: the user asked for that binary, and silently running another would hide the mistake.
 *
 * @example
 * const encoders = resolveEncoderPrograms();
 * startScreenEncoder({ ...encoders, platform, onConfig, onAccessUnit, onExit });
 */
export function resolveEncoderPrograms(env: NodeJS.ProcessEnv = process.env): EncoderPrograms {
  const { FFMPEG_PATH: ffmpegAsked, LIFELINE_X264_PATH: x264Path } = env;
  if (ffmpegAsked) return { ffmpegPath: resolveFfmpeg(env).path };
  if (!x264Path) return { ffmpegPath: resolveFfmpeg(env).path };
  const problem = executableProblem(x264Path);
  if (problem)
    throw new FfmpegNotFoundError(
      'invalid-ffmpeg-path',
      `LIFELINE_X264_PATH is set to ${x264Path}, but that ${problem}. Point it at lifeline-x264, or unset it.`,
    );
  try {
    return { x264Path, ffmpegPath: resolveFfmpeg(env).path };
  } catch {
    // The packaged Linux agent carries no ffmpeg: lifeline-x264 encodes everything there.
    return { x264Path };
  }
}

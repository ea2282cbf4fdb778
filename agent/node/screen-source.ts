import type { ScreenSource, ScreenStream } from '../core/ports.ts';
import type { EncoderPrograms } from '../media/encoder-path.ts';
import { startScreenEncoder } from '../media/screen-encoder.ts';
import type { CursorShape, Platform, PointerPosition, ScreenArea } from '../platform/platform.ts';

export interface EncodedScreenSourceOptions extends EncoderPrograms {
  platform: Platform;
  /** The part of the desktop to capture, asked at each start (one monitor); the whole desktop when undefined. */
  area?: () => ScreenArea | undefined;
  /** Parts of that area to blank, asked at each start: other windows lying on a shared window. */
  covered?: () => readonly ScreenArea[];
  /** Frames per second captured. */
  framerate: number;
  /** Children the agent must stop before it exits. */
  onChildStarted?: (pid: number) => void;
}

/** The screen as an H.264 stream (`startScreenEncoder`), restarted never: one encoder per viewing period. */
export function encodedScreenSource(options: EncodedScreenSourceOptions): ScreenSource {
  return {
    async start(sink): Promise<ScreenStream> {
      const area = options.area?.();
      const covered = options.covered?.() ?? [];
      const encoder = startScreenEncoder({
        ...(options.x264Path !== undefined ? { x264Path: options.x264Path } : {}),
        ...(options.ffmpegPath !== undefined ? { ffmpegPath: options.ffmpegPath } : {}),
        platform: options.platform,
        ...(area ? { area } : {}),
        ...(covered.length > 0 ? { covered } : {}),
        framerate: options.framerate,
        onConfig: (config) => sink.onConfig(config),
        onAccessUnit: (unit) => sink.onAccessUnit(unit),
        ...(sink.onCursorShape
          ? {
              onCursorShape: ({ width, height, hotX, hotY, rgba }: CursorShape) =>
                sink.onCursorShape?.({
                  width,
                  height,
                  hotX,
                  hotY,
                  rgba: Buffer.from(rgba).toString('base64'),
                }),
            }
          : {}),
        ...(sink.onPointer ? { onPointer: ({ x, y }: PointerPosition) => sink.onPointer?.(x, y) } : {}),
        onExit: (info) => {
          if (!stopped)
            sink.onError(
              `${encoder.program} exited (${info.signal ?? info.code}): ${info.stderrTail.trim().split('\n').at(-1) ?? ''}`,
            );
        },
      });
      options.onChildStarted?.(encoder.pid);
      let stopped = false;
      return {
        async stop() {
          stopped = true;
          await encoder.stop();
        },
        requestKeyframe() {
          encoder.requestKeyframe?.();
        },
        keyframesOnRequest: encoder.requestKeyframe !== undefined,
        ...(encoder.setFrameRate ? { setFrameRate: encoder.setFrameRate } : {}),
        ...(encoder.setQuality ? { setQuality: encoder.setQuality } : {}),
        ...(encoder.setBudget ? { setBudget: encoder.setBudget } : {}),
      };
    },
  };
}

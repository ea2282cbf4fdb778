import type { ScreenSource } from '../core/ports.ts';

/** The bytes of each synthetic access unit: an Annex-B start code and an IDR slice header. */
export const SYNTHETIC_ACCESS_UNIT = Uint8Array.from([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x33]);
/** Interval between synthetic frames, in milliseconds. */
export const SYNTHETIC_FRAME_INTERVAL_MS = 100;

/**
 * A screen that sends the same small keyframe every {@link SYNTHETIC_FRAME_INTERVAL_MS}: enough to
 * exercise the session's video path on a runtime that has no ffmpeg to run.
 */
export function syntheticScreen(onStart: () => void = () => {}): ScreenSource {
  return {
    async start(sink) {
      sink.onConfig({
        codec: 'avc1.42E01E',
        width: 64,
        height: 64,
        framerate: 1000 / SYNTHETIC_FRAME_INTERVAL_MS,
      });
      const timer = setInterval(() => {
        sink.onAccessUnit({ data: SYNTHETIC_ACCESS_UNIT, keyframe: true, captureTime: Date.now() });
      }, SYNTHETIC_FRAME_INTERVAL_MS);
      onStart();
      return {
        async stop() {
          clearInterval(timer);
        },
        requestKeyframe() {},
      };
    },
  };
}

import type { InputEvent, OperatorInfo, Permissions } from '../../protocol/index.ts';

/**
 * What the runtime-neutral agent core needs from its host. The Node host implements these with a
 * terminal, ffmpeg and robotjs; tests and other runtimes bring their own.
 */

export interface VideoConfig {
  codec: string;
  width: number;
  height: number;
  framerate: number;
}

export interface AccessUnit {
  data: Uint8Array;
  keyframe: boolean;
  /** Milliseconds since the Unix epoch. */
  captureTime: number;
}

export interface ScreenStream {
  stop(): Promise<void>;
  /** Asks for a keyframe soon; a stream that cannot force one sends its next scheduled keyframe. */
  requestKeyframe(): void;
}

export interface ScreenSource {
  start(sink: {
    onConfig(config: VideoConfig): void;
    onAccessUnit(unit: AccessUnit): void;
    onError(message: string): void;
  }): Promise<ScreenStream>;
}

export interface InputSink {
  apply(event: InputEvent): void;
  /** Lifts every key and button still held. */
  releaseAll(): void;
}

/** The end user's side: asking for consent, telling what happens, and letting them change their mind. */
export interface UserInterface {
  showCode(code: string, expiresAt: Date): void;
  /** Resolves with what the user allows; all false (or `accepted: false`) refuses. */
  askConsent(
    operator: OperatorInfo,
    requested: Permissions,
  ): Promise<{ accepted: boolean; permissions: Permissions }>;
  status(text: string): void;
  /** Shown when the operator set changes or permissions change. */
  permissionsChanged(permissions: Permissions): void;
  ended(reason: string): void;
}

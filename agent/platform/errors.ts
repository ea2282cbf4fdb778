import { KindedError } from '../core/errors.ts';

/** Why the agent cannot use this machine's desktop. */
export type PlatformErrorKind =
  | 'unsupported-os'
  | 'robotjs-missing'
  | 'no-display'
  | 'display-unreachable'
  | 'pty-missing';

/**
 * The desktop cannot be captured or controlled here. The message says what the user can do about it;
 * `kind` lets the agent report a result code instead of a stack trace.
 */
export class PlatformError extends KindedError<PlatformErrorKind> {
  override readonly name = 'PlatformError';
}

/** True for a {@link PlatformError}, optionally of one kind. */
export function isPlatformError(error: unknown, kind?: PlatformErrorKind): error is PlatformError {
  return error instanceof PlatformError && (kind === undefined || error.kind === kind);
}

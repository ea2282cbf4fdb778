import type { ResultCode } from '../result-codes.ts';

/** Why a relay link, or a request on it, failed. */
export type RelayLinkErrorKind =
  /** The relay did not answer `hello` with `welcome` in time. */
  | 'no-welcome'
  /** The relay answered `hello` with an `error` (a bad token, an ended session…); see `code`. */
  | 'refused'
  /** The socket closed (or the link was detached) while the request or the welcome was pending. */
  | 'closed'
  /** The link has no channels: not welcomed, welcomed without a slot, or already closed. */
  | 'not-connected'
  /** The peer did not answer a request in time. */
  | 'timeout'
  /** The peer answered the request with `channel-error`; see `code`. */
  | 'channel-error'
  /** The peer closed the request's channel without an answer. */
  | 'channel-closed'
  /** The caller aborted the request. */
  | 'aborted';

/**
 * A failure of the relay link or of one request on it, with a message fit to show a person.
 * @example
 * try { await link.request(…); } catch (error) { if (isRelayLinkError(error, 'timeout')) retry(); }
 */
export class RelayLinkError extends Error {
  override readonly name = 'RelayLinkError';

  constructor(
    readonly kind: RelayLinkErrorKind,
    message: string,
    /** The peer's result code, for `refused` and `channel-error`. */
    readonly code?: ResultCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether `error` is a {@link RelayLinkError}, of one of `kinds` when given. */
export function isRelayLinkError(error: unknown, ...kinds: RelayLinkErrorKind[]): error is RelayLinkError {
  return error instanceof RelayLinkError && (kinds.length === 0 || kinds.includes(error.kind));
}

/**
 * The agent's domain errors: a message fit to show the end user and a literal-union `kind` the
 * caller branches on; each subclass sets its own `name`.
 * @example
 * export class StampError extends KindedError<StampErrorKind> {
 *   override readonly name = 'StampError';
 * }
 */
export class KindedError<Kind extends string> extends Error {
  constructor(
    readonly kind: Kind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type AgentErrorKind = 'unreachable' | 'refused' | 'protocol';

/** A failure the agent explains to the end user and exits on. */
export class AgentError extends KindedError<AgentErrorKind> {
  override readonly name = 'AgentError';
}

export function isAgentError(error: unknown): error is AgentError {
  return error instanceof AgentError;
}

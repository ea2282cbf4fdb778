/**
 * Failures a peer must act on. They travel as `error` messages on the socket and as the `code`
 * of HTTP problem responses, so the console, the agent and scripts branch on the same words.
 */
export const RESULT_CODES = [
  'CODE_INVALID',
  'CODE_EXPIRED',
  'CODE_USED',
  'TOO_FREQUENT',
  'TOKEN_INVALID',
  'PROTOCOL_UNSUPPORTED',
  'HELLO_TIMEOUT',
  'MALFORMED',
  'MESSAGE_TOO_LARGE',
  'SESSION_NOT_FOUND',
  'SESSION_ENDED',
  'AGENT_OFFLINE',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'NOT_FOUND',
  'CONFLICT',
  'VALIDATION_FAILED',
  'INTERNAL',
  'POLICY_FORBIDS',
  'SECOND_FACTOR_REQUIRED',
  'IDEMPOTENCY_MISMATCH',
  // Channels: shells, commands and files.
  'CAPABILITY_NOT_ALLOWED',
  'PATH_OUTSIDE_FOLDER',
  'FILE_NOT_FOUND',
  'FILE_EXISTS',
  'NOT_A_FILE',
  'NOT_A_FOLDER',
  'IO_ERROR',
  'CHECKSUM_MISMATCH',
  'CHANNEL_IN_USE',
  'NOT_SUPPORTED',
  'TIMEOUT',
  // A file is not the version the request was about (HTTP If-Match), or changed while it was read.
  'FILE_CHANGED',
  // The end user removed this operator from the session; it goes on for the others.
  'OPERATOR_REMOVED',
  // Invitations an end user created: expired, already opened, or the wrong password (also the wrong
  // dynamic password of unattended access).
  'INVITATION_EXPIRED',
  'INVITATION_USED',
  'PASSWORD_WRONG',
  // The end user refused a file an operator sent.
  'REFUSED_BY_USER',
  // Orders to resident devices (protocol/device-orders.ts).
  'DEVICE_OFFLINE',
  'ORDER_EXPIRED',
  'ORDER_REPLAYED',
  'ORDER_WRONG_DEVICE',
  // Unattended access (README, "Unattended access"): not started, or expired since.
  'UNATTENDED_INACTIVE',
] as const;

export type ResultCode = (typeof RESULT_CODES)[number];

/** Why a session ended; shown to both sides and recorded in the audit log. */
export const END_REASONS = [
  'operator-ended',
  'user-ended',
  'consent-refused',
  'agent-disconnected',
  'code-expired',
  'admin-ended',
  'server-shutdown',
  'error',
  'idle-timeout',
  'max-duration',
  'server-restart',
] as const;

export type EndReason = (typeof END_REASONS)[number];

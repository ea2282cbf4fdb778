import { isRelayLinkError, type MessageOf } from '../../../protocol/index.ts';

/** Which tool a refusal concerns, for naming the permission the user withheld. */
export type ToolKind = 'files' | 'shell';

const TEXT: Record<string, string> = {
  PATH_OUTSIDE_FOLDER: 'That path is outside the folder the user shares.',
  FILE_NOT_FOUND: 'It is not there any more. Refresh the folder.',
  FILE_EXISTS: 'Something with that name already exists.',
  NOT_A_FILE: 'That is a folder, not a file.',
  NOT_A_FOLDER: 'That is not a folder.',
  CHECKSUM_MISMATCH: 'The file arrived damaged: its checksum does not match. Try again.',
  FILE_CHANGED: 'The file changed on the device while it was sent. Download it again.',
  CHANNEL_IN_USE: 'The device is still busy with an earlier request on this channel. Try again.',
  NOT_SUPPORTED: 'The agent on this device cannot do this.',
  TIMEOUT: 'The device took too long to answer.',
  AGENT_OFFLINE: "The user's device is not connected right now.",
  MALFORMED: 'The device did not understand the request.',
};

const NOT_ALLOWED: Record<ToolKind, string> = {
  files: 'The user has not allowed file access.',
  shell: 'The user has not allowed shell access.',
};

/**
 * A sentence for the operator from a `channel-error`: the result code says what happened; the
 * agent's own message is added where it carries detail (an I/O failure's cause).
 * @example
 * channelErrorText({ code: 'PATH_OUTSIDE_FOLDER', … }, 'files') // 'That path is outside the folder the user shares.'
 */
export function channelErrorText(
  error: Pick<MessageOf<'channel-error'>, 'code' | 'message'>,
  tool: ToolKind,
): string {
  if (error.code === 'CAPABILITY_NOT_ALLOWED') return NOT_ALLOWED[tool];
  if (error.code === 'IO_ERROR') {
    const detail = error.message.trim();
    return detail ? `The device could not do it: ${detail}` : 'The device could not do it.';
  }
  return TEXT[error.code] ?? (error.message.trim() || `The device refused (${error.code}).`);
}

/** What the tools say when no relay connection carries the request. */
export const NOT_CONNECTED = 'Not connected to the relay.';

/**
 * What to tell the operator about a failed request on a files channel: the agent's refusal, a
 * timeout, a dropped connection; `closedByDevice` when the agent closed the channel without a word.
 */
export function requestFailureText(error: unknown, closedByDevice: string): string {
  if (isRelayLinkError(error, 'channel-error') && error.code) {
    return channelErrorText({ code: error.code, message: error.message }, 'files');
  }
  if (isRelayLinkError(error, 'channel-closed')) return closedByDevice;
  if (isRelayLinkError(error, 'not-connected')) return NOT_CONNECTED;
  return error instanceof Error ? error.message : String(error);
}

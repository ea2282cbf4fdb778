import { type ControlMessage, encodeControl } from '../../protocol/index.ts';

/** Past this many bytes queued on the socket, the agent holds back: video, shells, commands, files. */
export const MAX_AGENT_BUFFERED_BYTES = 1024 * 1024;
/** How often a held-back stream looks whether the socket drained, in milliseconds. */
export const DRAIN_POLL_MS = 20;

/**
 * The agent's way to the relay for channels: sends, and says when to hold back so a fast producer
 * (`cat /dev/urandom`, a large download) waits for the network instead of piling up in memory and
 * making the relay drop the operator as a slow reader.
 */
export interface Uplink {
  send(message: ControlMessage): void;
  sendBytes(bytes: Uint8Array): void;
  /** Whether more than MAX_AGENT_BUFFERED_BYTES wait on the socket. */
  congested(): boolean;
  /**
   * Resolves once the socket is no longer congested, or the session is over. A WebSocket has no
   * drain event, so this polls every DRAIN_POLL_MS.
   */
  drained(): Promise<void>;
}

/** An uplink over whichever socket the session currently has. */
export function socketUplink(current: () => WebSocket | undefined, over: () => boolean): Uplink {
  const open = () => {
    const socket = current();
    return socket?.readyState === WebSocket.OPEN ? socket : undefined;
  };
  const congested = () => (open()?.bufferedAmount ?? 0) > MAX_AGENT_BUFFERED_BYTES;
  return {
    send: (message) => open()?.send(encodeControl(message)),
    sendBytes: (bytes) => open()?.send(bytes),
    congested,
    drained: () =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!congested() || over()) resolve();
          else setTimeout(check, DRAIN_POLL_MS);
        };
        check();
      }),
  };
}

/** One participant's socket, as the relay sees it; the WebSocket adapter implements it. */
export interface RelayPeer {
  /** The client's address, for logs and audit. */
  readonly address: string;
  send(data: Uint8Array): void;
  close(code: number, reason: string): void;
  /** Bytes queued for this peer and not yet written to the network. */
  bufferedAmount(): number;
}

/** What the adapter calls for a connected peer. Neither ever throws. */
export interface RelayConnection {
  onMessage(data: Uint8Array): void;
  onClose(): void;
}

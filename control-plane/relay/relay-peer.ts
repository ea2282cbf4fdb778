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

/** WebSocket close codes the relay uses. */
export const CloseCode = {
  normal: 1000,
  policy: 1008,
  tooBig: 1009,
  /** The control plane is restarting: the session stays open, reconnect. */
  serviceRestart: 1012,
  helloTimeout: 4001,
  tooSlow: 4002,
  /** The peer kept sending messages that make the server write faster than its budget allows. */
  flood: 4003,
} as const;

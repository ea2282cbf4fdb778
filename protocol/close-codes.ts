/** WebSocket close codes on the relay's sockets, shared by the relay, the agent, the console and the tests. */
export const CloseCode = {
  /** Done on purpose: the session ended, the operator left, a newer connection replaced this one. */
  normal: 1000,
  /** Refused: a bad hello or token, a logout, a disabled operator, an agent that is gone. */
  policy: 1008,
  /** A message larger than the relay accepts. */
  tooBig: 1009,
  /** The control plane is restarting: the session stays open, reconnect. */
  serviceRestart: 1012,
  /** The console gave up on a relay that never welcomed it. */
  noWelcome: 4000,
  /** No hello within the time limit. */
  helloTimeout: 4001,
  /** The peer read so slowly that its unsent bytes passed the relay's buffer limit. */
  tooSlow: 4002,
  /** The peer kept sending messages that make the server write faster than its budget allows. */
  flood: 4003,
} as const;

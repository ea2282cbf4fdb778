/** What the relay counts, read at scrape time by the metrics and by tests. */
export interface RelayStats {
  sessions: number;
  /** Sessions whose agent is connected now (not waiting out its grace period). */
  agents: number;
  operators: number;
  /** Bytes received from agents and operators. */
  receivedBytes: number;
  malformedFrames: number;
  droppedVideoFrames: number;
  /** File and shell frames from operators dropped because the end user did not allow them. */
  refusedFrames: number;
  /** Channel frames from agents whose operator connection had already left. */
  unroutedChannelFrames: number;
  /** Permission requests dropped: before consent, or asked again too soon by the same connection. */
  droppedPermissionRequests: number;
  /** Messages that do not fit the session's state (an agent's chat before consent, a second consent). */
  outOfStateMessages: number;
  /** Input events dropped because their operator connection did not hold control. */
  droppedInputEvents: number;
  /** Messages dropped because their connection passed its write budget. */
  overBudgetMessages: number;
  /** Connections closed for flooding (close code 4003). */
  floodClosures: number;
}

/** The running counts the relay's parts (admission, lifecycle, dispatch) add to. */
export class RelayCounters {
  receivedBytes = 0;
  malformedFrames = 0;
  refusedFrames = 0;
  unroutedChannelFrames = 0;
  /** Video frames dropped in sessions that have ended (live sessions count their own). */
  droppedVideoFramesOfEnded = 0;
  outOfStateMessages = 0;
  overBudgetMessages = 0;
  floodClosures = 0;
}

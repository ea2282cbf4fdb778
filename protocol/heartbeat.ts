/**
 * Heartbeat intervals a peer may stay without hearing anything from the relay; checked each interval,
 * so a silent relay is given up within one more (30 s at the relay's default of 10 s).
 */
export const SILENT_HEARTBEATS = 2;

/**
 * The client side of the relay's application heartbeat, for runtimes whose WebSocket cannot ping
 * (browsers, Deno, the agent): every interval it sends a `heartbeat` (the relay echoes it), and when
 * nothing at all came from the relay for more than {@link SILENT_HEARTBEATS} intervals it calls `silent` once,
 * so the caller drops the socket instead of waiting for a TCP timeout that may take many minutes.
 *
 * @example
 * const beat = new Heartbeat(welcome.heartbeatSeconds * 1000, () => send({ type: 'heartbeat' }), dropSocket);
 * socket.addEventListener('message', () => beat.heard());
 * // when the socket closes: beat.stop();
 */
export class Heartbeat {
  private lastHeard = Date.now();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly intervalMs: number,
    beat: () => void,
    private readonly silent: () => void,
  ) {
    this.timer = setInterval(() => {
      if (Date.now() - this.lastHeard > SILENT_HEARTBEATS * this.intervalMs) {
        this.stop();
        this.silent();
        return;
      }
      beat();
    }, intervalMs);
  }

  /** Something arrived from the relay. */
  heard(): void {
    this.lastHeard = Date.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

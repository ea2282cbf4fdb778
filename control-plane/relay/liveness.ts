/** How often the relay pings every socket by default, in seconds. */
export const PING_SECONDS = 10;
/**
 * Pings in a row a socket may leave unanswered (while sending nothing else) before it is taken for
 * gone: a peer that fell silent is cut within `MISSED_PINGS + 1` ping intervals (30 s by default).
 */
export const MISSED_PINGS = 2;

/** The part of a `ws` socket the watch uses. */
export interface Pingable {
  ping(): void;
  /** Destroys the socket at once, without a closing handshake (which a dead peer never answers). */
  terminate(): void;
}

/**
 * Notices sockets whose peer fell silent (a frozen machine, a cable pulled, a NAT entry dropped: the
 * TCP connection looks open but nothing comes): every socket is pinged each interval, and one that
 * answered none of the last pings and sent nothing else is terminated, which runs its ordinary close
 * path. The pings also keep idle connections alive through proxies that cut silent sockets.
 *
 * @example
 * const liveness = new Liveness(10_000);
 * liveness.watch(raw); raw.on('pong', () => liveness.heard(raw)); // and heard() on every message
 * // on close: liveness.forget(raw)
 */
export class Liveness {
  /** Each watched socket and how many of its pings in a row went unanswered. */
  private readonly silent = new Map<Pingable, number>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(intervalMs: number) {
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  watch(socket: Pingable): void {
    this.silent.set(socket, 0);
  }

  /** The peer sent something (a pong or any message): it is alive. */
  heard(socket: Pingable): void {
    if (this.silent.has(socket)) this.silent.set(socket, 0);
  }

  forget(socket: Pingable): void {
    this.silent.delete(socket);
  }

  /** Terminates the sockets silent for too long and pings the others; returns how many it cut. */
  sweep(): number {
    let cut = 0;
    for (const [socket, missed] of this.silent) {
      if (missed >= MISSED_PINGS) {
        this.silent.delete(socket);
        socket.terminate();
        cut++;
        continue;
      }
      this.silent.set(socket, missed + 1);
      try {
        socket.ping();
      } catch {
        // Not open any more: its close is on its way and forgets it.
      }
    }
    return cut;
  }

  stop(): void {
    clearInterval(this.timer);
    this.silent.clear();
  }
}

/** The part of a `ws` socket {@link watchWebSocket} uses. */
export interface WatchableSocket extends Pingable {
  on(event: 'pong', listener: () => void): unknown;
}

/**
 * Puts a `ws` socket under `liveness`: its pongs count as heard; call `heard` on every message and
 * `forget` when it closes. `onCut` runs (for a log line) just before a silent socket is terminated.
 *
 * @example
 * const watch = watchWebSocket(liveness, ws.raw, () => logger.warn({ address }, 'peer silent: cut'));
 * // onMessage: watch.heard(); onClose: watch.forget()
 */
export function watchWebSocket(
  liveness: Liveness,
  raw: WatchableSocket,
  onCut: () => void,
): { heard(): void; forget(): void } {
  const socket: Pingable = {
    ping: () => raw.ping(),
    terminate: () => {
      onCut();
      raw.terminate();
    },
  };
  liveness.watch(socket);
  raw.on('pong', () => liveness.heard(socket));
  return { heard: () => liveness.heard(socket), forget: () => liveness.forget(socket) };
}

/**
 * Frames remembered per operator while waiting for its receipt. A console that stops reporting
 * leaves at most this many behind; the oldest are forgotten first (its backlog then reads as the
 * age of the oldest remembered, which is already long).
 */
const MAX_PENDING_FRAMES = 2_048;
/**
 * How often the console reports receipts, in ms (the console's RECEIPT_INTERVAL_MS). A frame waits
 * up to this long for its receipt even on an idle link, so an unreported frame counts as late only
 * past it.
 */
export const RECEIPT_INTERVAL_MS = 100;

/** Video still on the way to one operator. */
export interface Backlog {
  /** Bytes sent and not yet reported received. */
  bytes: number;
  /** Relay → receipt of the newest frame reported, or the wait of the oldest not reported when longer, ms. */
  ms: number;
  /** The console's last word on keeping up with the pictures; undefined from consoles that do not say. */
  behind?: boolean;
}

/**
 * What the relay sent one operator's connection and what its console says it received
 * (`video-received`): the difference is video in the relay's queue, the kernel's send buffer, the
 * network and the browser, wherever it waits. Connections that never report (older consoles, the
 * API) have no backlog.
 */
export class VideoBacklog {
  #sent = 0;
  #received = 0;
  #reported = false;
  /** Frames sent and not yet reported: the bytes sent up to and including each, and when. */
  #pending: Array<{ end: number; at: number }> = [];
  #lastDelayMs = 0;
  #behind: boolean | undefined;

  /** A frame of `bytes` went to the operator's socket. */
  sent(bytes: number, now: number): void {
    this.#sent += bytes;
    this.#pending.push({ end: this.#sent, at: now });
    if (this.#pending.length > MAX_PENDING_FRAMES) this.#pending.shift();
  }

  /**
   * The console reports `bytes` received in all, and whether it is `behind` the pictures (when it
   * says). A report of more than was sent, or of less than an earlier one, is ignored (false).
   */
  received(bytes: number, now: number, behind?: boolean): boolean {
    if (bytes > this.#sent || bytes < this.#received) return false;
    this.#received = bytes;
    this.#behind = behind;
    this.#reported = true;
    let newest: { end: number; at: number } | undefined;
    while (this.#pending[0] && this.#pending[0].end <= bytes) newest = this.#pending.shift();
    if (newest) this.#lastDelayMs = now - newest.at;
    return true;
  }

  /** The backlog now, or undefined while the console has never reported. */
  state(now: number): Backlog | undefined {
    if (!this.#reported) return undefined;
    const oldest = this.#pending[0];
    const waiting = oldest ? now - oldest.at - RECEIPT_INTERVAL_MS : 0;
    const ms = Math.max(this.#lastDelayMs, waiting, 0);
    return {
      bytes: this.#sent - this.#received,
      ms,
      ...(this.#behind !== undefined ? { behind: this.#behind } : {}),
    };
  }
}

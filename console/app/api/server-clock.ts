/**
 * The control plane's clock as seen from this browser. Code expiries are the server's times; an
 * operator's computer whose clock is a few minutes off would otherwise count down wrongly.
 */

/** Skews below this are noise of the Date header's one-second resolution, in ms. */
const NEGLIGIBLE_SKEW_MS = 2000;

let offsetMs = 0;

/** Learns the server's time from a response's `Date` header (whole seconds, so +500 ms on average). */
export function noteServerDate(header: string | null, receivedAt = Date.now()): void {
  if (header === null) return;
  const at = Date.parse(header);
  if (Number.isNaN(at)) return;
  const skew = at + 500 - receivedAt;
  offsetMs = Math.abs(skew) < NEGLIGIBLE_SKEW_MS ? 0 : skew;
}

/** A server timestamp (ISO) as a time on this browser's clock, in ms since the epoch. */
export function toLocalTime(serverIso: string): number {
  return Date.parse(serverIso) - offsetMs;
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

const dateOnly = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });

/** A server timestamp in the operator's locale, to the second; an em dash for none. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const at = Date.parse(iso);
  return Number.isNaN(at) ? '—' : dateTime.format(at);
}

/** A server timestamp as a date alone; an em dash for none. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const at = Date.parse(iso);
  return Number.isNaN(at) ? '—' : dateOnly.format(at);
}

/**
 * Seconds left as a clock: `14:05`, or `1:02:03` past an hour.
 * @example formatCountdown(845) // '14:05'
 */
export function formatCountdown(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * A length of time in words, to the largest sensible unit.
 * @example formatDuration(3_900_000) // '1 h 5 min'
 */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}

/** Minutes as a policy states them, with 0 meaning none: `30 min`, `8 h`, `never`. */
export function formatMinutes(minutes: number, zero = 'no limit'): string {
  return minutes === 0 ? zero : formatDuration(minutes * 60_000);
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayAndClock = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
});

/**
 * A moment in ms since the epoch as the time of day when it was today, else with its date, for
 * chat lines and file times.
 */
export function formatMoment(at: number, now = Date.now()): string {
  if (!Number.isFinite(at) || at <= 0) return '—';
  const sameDay = new Date(at).toDateString() === new Date(now).toDateString();
  if (sameDay) return clock.format(at);
  return new Date(at).getFullYear() === new Date(now).getFullYear()
    ? dayAndClock.format(at)
    : dateOnly.format(at);
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/**
 * A byte count for people, in powers of 1000 with at most three significant digits.
 * @example formatBytes(1_234_567) // '1.23 MB'
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/**
 * A transfer speed in bytes per second.
 * @example formatRate(2_500_000) // '2.50 MB/s'
 */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

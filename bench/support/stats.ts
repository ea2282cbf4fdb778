/** Percentiles of a latency sample, in ms. */
export interface Distribution {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** The q-quantile (0..1) of sorted values, by linear interpolation between closest ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const a = sorted[lower]!;
  const b = sorted[upper]!;
  return a + (b - a) * (position - lower);
}

/** Summarises a sample; every field is NaN when it is empty. */
export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** Rounds for reports: two decimals below 1, one below 100, none above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const abs = Math.abs(value);
  if (abs < 1) return Math.round(value * 100) / 100;
  return abs < 100 ? Math.round(value * 10) / 10 : Math.round(value);
}

/** `a / b` for the Lifeline/peer columns; undefined when the peer's figure is zero or missing. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0)
    return undefined;
  return Math.round((a / b) * 100) / 100;
}

/**
 * `points` + 1 values at evenly spaced quantiles (0, 1/points, …, 1): enough to draw or compare a
 * distribution without keeping every sample.
 */
export function quantileSketch(values: readonly number[], points = 200): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length <= points + 1) return sorted;
  return Array.from({ length: points + 1 }, (_, i) => quantile(sorted, i / points));
}

/**
 * Prometheus' text exposition format (version 0.0.4), written out for the few metric kinds the
 * control plane needs: counters, gauges and histograms with fixed buckets, each with its HELP and
 * TYPE lines. Label values are escaped as the format requires (backslash, double quote, newline).
 */

/** The Content-Type of a scrape answer. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Record<string, string>;

function escapeHelp(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** A stable key for a label set, so `{a,b}` and `{b,a}` are one series. */
function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** One metric family: renders its HELP, TYPE and sample lines. */
export interface Metric {
  readonly name: string;
  render(): string;
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

/** A value that only goes up, one per label set. */
export class Counter implements Metric {
  private readonly series = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = seriesKey(labels);
    const entry = this.series.get(key);
    if (entry) entry.value += by;
    else this.series.set(key, { labels, value: by });
  }

  render(): string {
    let text = header(this.name, this.help, 'counter');
    for (const { labels, value } of this.series.values())
      text += `${this.name}${formatLabels(labels)} ${formatValue(value)}\n`;
    return text;
  }
}

/**
 * A value read when scraped, from whoever holds it (the relay's live sessions), so no state is kept
 * twice. `type` is 'counter' for totals someone else counts.
 */
export class Observed implements Metric {
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly type: 'gauge' | 'counter',
    private readonly read: () => number,
  ) {}

  render(): string {
    return `${header(this.name, this.help, this.type)}${this.name} ${formatValue(this.read())}\n`;
  }
}

/** Observations counted into fixed cumulative buckets, with their sum and count, per label set. */
export class Histogram implements Metric {
  private readonly series = new Map<
    string,
    { labels: Labels; buckets: number[]; sum: number; count: number }
  >();
  /**
   * @param buckets upper bounds in ascending order; the `+Inf` bucket is added.
   */
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const key = seriesKey(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels, buckets: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) entry.buckets[i]!++;
    entry.sum += value;
    entry.count++;
  }

  render(): string {
    let text = header(this.name, this.help, 'histogram');
    for (const { labels, buckets, sum, count } of this.series.values()) {
      for (let i = 0; i < this.buckets.length; i++) {
        const le = formatLabels({ ...labels, le: formatValue(this.buckets[i]!) });
        text += `${this.name}_bucket${le} ${buckets[i]}\n`;
      }
      text += `${this.name}_bucket${formatLabels({ ...labels, le: '+Inf' })} ${count}\n`;
      text += `${this.name}_sum${formatLabels(labels)} ${formatValue(sum)}\n`;
      text += `${this.name}_count${formatLabels(labels)} ${count}\n`;
    }
    return text;
  }
}

/** Renders metric families one after another, as one scrape answer. */
export function renderMetrics(metrics: readonly Metric[]): string {
  return metrics.map((metric) => metric.render()).join('');
}

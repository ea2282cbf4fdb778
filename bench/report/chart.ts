import { quantile, quantileSketch } from '../support/stats.ts';
import { SYSTEM_LABEL } from '../viewers/viewer.ts';
import type { BenchResults } from './results.ts';

interface Series {
  label: string;
  colour: string;
  dashed: boolean;
  samples: number[];
}

interface Panel {
  title: string;
  series: Series[];
}

const PANEL = { width: 440, height: 310, left: 48, right: 12, top: 30, bottom: 104 };
const COLOURS = { lifeline: '#1f6feb', vnc: '#d9480f' };
const LOAD_COLOURS = ['#2b8a3e', '#1f6feb', '#ae3ec9', '#d9480f', '#495057'];
/** Horizontal guides on every panel (p95 sits too close to p99 to carry a label). */
const GUIDES = [0.5, 0.99];
/** The 1-2-5 steps of the logarithmic time axis, in ms. */
const STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function panelSvg(panel: Panel, offsetX: number): string {
  const plotW = PANEL.width - PANEL.left - PANEL.right;
  const plotH = PANEL.height - PANEL.top - PANEL.bottom;
  const withData = panel.series.filter((s) => s.samples.length > 0);
  const all = withData.flatMap((s) => s.samples);
  // Latencies span from below a millisecond (the relay) to seconds (a stalled viewer): a log axis.
  const low = Math.min(...all);
  const high = Math.max(...all);
  const xMin = [...STEPS].reverse().find((step) => step <= low) ?? STEPS[0]!;
  const xMax = STEPS.find((step) => step >= high) ?? STEPS.at(-1)!;
  const span = Math.log10(xMax) - Math.log10(xMin);
  const x = (v: number) =>
    PANEL.left + ((Math.log10(Math.min(Math.max(v, xMin), xMax)) - Math.log10(xMin)) / span) * plotW;
  const y = (q: number) => PANEL.top + (1 - q) * plotH;
  const out: string[] = [`<g transform="translate(${offsetX},0)">`];
  out.push(
    `<text x="${PANEL.left}" y="18" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`,
    `<rect x="${PANEL.left}" y="${PANEL.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#adb5bd"/>`,
  );
  for (const guide of GUIDES) {
    out.push(
      `<line x1="${PANEL.left}" x2="${PANEL.left + plotW}" y1="${y(guide)}" y2="${y(guide)}" stroke="#dee2e6" stroke-dasharray="2 3"/>`,
      `<text x="${PANEL.left - 4}" y="${y(guide) + 4}" font-size="10" text-anchor="end">p${Math.round(guide * 100)}</text>`,
    );
  }
  for (const value of STEPS.filter((step) => step >= xMin && step <= xMax)) {
    out.push(
      `<line x1="${x(value)}" x2="${x(value)}" y1="${PANEL.top}" y2="${PANEL.top + plotH}" stroke="#f1f3f5"/>`,
      `<text x="${x(value)}" y="${PANEL.top + plotH + 14}" font-size="10" text-anchor="middle">${value}</text>`,
    );
  }
  out.push(
    `<text x="${PANEL.left + plotW / 2}" y="${PANEL.top + plotH + 28}" font-size="10" text-anchor="middle">ms, log scale (share of samples at or below)</text>`,
  );
  withData.forEach((series, i) => {
    const sorted = [...series.samples].sort((a, b) => a - b);
    // At most ~200 points per curve keeps the file small; the shape does not change.
    const curve = quantileSketch(sorted);
    const points = curve.map(
      (v, j) => `${x(v).toFixed(1)},${y(curve.length > 1 ? j / (curve.length - 1) : 1).toFixed(1)}`,
    );
    out.push(
      `<polyline fill="none" stroke="${series.colour}" stroke-width="1.6"${series.dashed ? ' stroke-dasharray="5 3"' : ''} points="${x(sorted[0]!).toFixed(1)},${y(0)} ${points.join(' ')}"/>`,
    );
    const ly = PANEL.top + plotH + 44 + i * 13;
    out.push(
      `<line x1="${PANEL.left}" x2="${PANEL.left + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${series.colour}" stroke-width="1.6"${series.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
      `<text x="${PANEL.left + 28}" y="${ly}" font-size="10">${escapeXml(series.label)} (p50 ${Math.round(quantile(sorted, 0.5))}, p99 ${Math.round(quantile(sorted, 0.99))} ms)</text>`,
    );
  });
  out.push('</g>');
  return out.join('\n');
}

/**
 * Cumulative distributions of the latencies a run measured: input to display and display to viewer
 * for both systems at both resolutions, and the relay's one-way latency per load. Undefined when the
 * run measured no latency.
 */
export function latencyChart(results: BenchResults): string | undefined {
  const panels: Panel[] = [];
  if (results.latency?.length) {
    for (const [title, key] of [
      ['Input to display', 'inputToDisplay'],
      ['Input to display, full-screen change', 'fullScreenInputToDisplay'],
      ['Display to viewer', 'displayToViewer'],
    ] as const) {
      if (!results.latency.some((figures) => figures.samples[key]?.length)) continue;
      panels.push({
        title,
        series: results.latency.map((figures) => ({
          label: `${SYSTEM_LABEL[figures.system]} ${figures.resolution}`,
          colour: COLOURS[figures.system],
          dashed: figures.resolution !== '1280x720',
          samples: figures.samples[key] ?? [],
        })),
      });
    }
  }
  if (results.relay) {
    panels.push({
      title: 'Relay, one-way per frame (2 Mbit/s each)',
      series: [
        { label: '1 session', samples: results.relay.samples.single },
        ...Object.entries(results.relay.samples.loads).map(([sessions, samples]) => ({
          label: `${sessions} sessions`,
          samples,
        })),
      ].map((series, i) => ({ ...series, colour: LOAD_COLOURS[i % LOAD_COLOURS.length]!, dashed: false })),
    });
  }
  if (panels.length === 0) return undefined;
  const width = panels.length * PANEL.width;
  const caption = `Lifeline vs x11vnc+noVNC, ${results.date.slice(0, 10)}, commit ${results.commit}, ${results.machine.cpus} cores, load average ${results.load.start}${results.quick ? ' (quick run)' : ''}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL.height + 18}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...panels.map((panel, i) => panelSvg(panel, i * PANEL.width)),
    `<text x="8" y="${PANEL.height + 12}" font-size="10" fill="#495057">${escapeXml(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

import {
  QUALITY_SAMPLE_MS,
  QUALITY_WINDOW_SAMPLES,
  type QualityHistory,
  type QualitySample,
} from '../media/quality-history.ts';
import { useObservedState } from './hooks.ts';

const wholeNumber = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
/** Height of each chart's drawing space, in viewBox units. */
const CHART_HEIGHT = 30;

type Series = 'fps' | 'kbps' | 'rttMs';

const ROWS: ReadonlyArray<{ series: Series; label: string; unit: string }> = [
  { series: 'fps', label: 'Frames', unit: 'fps' },
  { series: 'kbps', label: 'Video', unit: 'kbit/s' },
  { series: 'rttMs', label: 'Round trip', unit: 'ms' },
];

/** The series as polyline points over the window, scaled to its own maximum; gaps where it had no value. */
function points(samples: readonly QualitySample[], series: Series): string {
  const values = samples.map((sample) => sample[series]);
  const top = Math.max(1, ...values.map((value) => value ?? 0));
  const offset = QUALITY_WINDOW_SAMPLES - samples.length;
  return values
    .flatMap((value, i) =>
      value === null ? [] : [`${offset + i},${(CHART_HEIGHT - (value / top) * CHART_HEIGHT).toFixed(1)}`],
    )
    .join(' ');
}

/**
 * A small live plot of the session's quality over the last minutes: pictures per second, kbit/s of
 * video and the round trip to the device and back (`[data-testid=quality-plot]`).
 */
export function QualityPlot({ quality }: { quality: QualityHistory }) {
  const { samples } = useObservedState(quality);
  const latest = samples.at(-1);
  const minutes = (QUALITY_WINDOW_SAMPLES * QUALITY_SAMPLE_MS) / 60_000;
  return (
    <section class="quality" data-testid="quality-plot" aria-label="Session quality">
      {ROWS.map(({ series, label, unit }) => {
        const value = latest?.[series];
        return (
          <div class="quality__row" key={series}>
            <div>
              <div>{label}</div>
              <div class="quality__value" data-testid={`quality-${series}`}>
                {value === undefined || value === null ? '–' : wholeNumber.format(value)} {unit}
              </div>
            </div>
            <svg
              class="quality__chart"
              viewBox={`0 0 ${QUALITY_WINDOW_SAMPLES} ${CHART_HEIGHT}`}
              preserveAspectRatio="none"
              role="img"
              aria-label={`${label} over the last ${minutes} minutes`}
            >
              <polyline data-testid={`quality-${series}-line`} points={points(samples, series)} />
            </svg>
          </div>
        );
      })}
      <div class="quality__note">
        Last {minutes} minutes, one point a second; each chart scales to its peak.
      </div>
    </section>
  );
}

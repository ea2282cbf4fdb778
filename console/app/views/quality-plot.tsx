import type { VideoPreference } from '../../../protocol/index.ts';
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

type Series = 'fps' | 'kbps' | 'rttMs' | 'fpsCap';

const ROWS: ReadonlyArray<{ series: Series; label: string; unit: string }> = [
  { series: 'fps', label: 'Frames', unit: 'fps' },
  { series: 'kbps', label: 'Video', unit: 'kbit/s' },
  { series: 'rttMs', label: 'Round trip', unit: 'ms' },
];

/** The highest value of some series over the window, at least 1. */
function peak(samples: readonly QualitySample[], series: readonly Series[]): number {
  return Math.max(1, ...samples.flatMap((sample) => series.map((name) => sample[name] ?? 0)));
}

/** The series as polyline points over the window, scaled to `top`; gaps where it had no value. */
function points(samples: readonly QualitySample[], series: Series, top: number): string {
  const values = samples.map((sample) => sample[series]);
  const offset = QUALITY_WINDOW_SAMPLES - samples.length;
  return values
    .flatMap((value, i) =>
      value === null ? [] : [`${offset + i},${(CHART_HEIGHT - (value / top) * CHART_HEIGHT).toFixed(1)}`],
    )
    .join(' ');
}

const PREFERENCE_LABEL: Record<VideoPreference, string> = {
  speed: 'Speed: fewer pictures, less delay',
  quality: 'Smoothness: more pictures, more delay',
};

/**
 * A small live plot of the session's quality over the last minutes: pictures per second (and, dashed,
 * the most the agent's adaptation to the link allowed), kbit/s of video and the round trip to the
 * device and back (`[data-testid=quality-plot]`); what the adaptation chose and the operator's
 * preference when the link cannot carry every picture.
 */
export function QualityPlot({
  quality,
  onPrefer,
}: {
  quality: QualityHistory;
  /** Sends the operator's choice to the agent; without it the choice is not offered. */
  onPrefer?: (prefer: VideoPreference) => void;
}) {
  const { samples, adaptation } = useObservedState(quality);
  const latest = samples.at(-1);
  const minutes = (QUALITY_WINDOW_SAMPLES * QUALITY_SAMPLE_MS) / 60_000;
  return (
    <section class="quality" data-testid="quality-plot" aria-label="Session quality">
      {ROWS.map(({ series, label, unit }) => {
        const value = latest?.[series];
        const top = peak(samples, series === 'fps' ? ['fps', 'fpsCap'] : [series]);
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
              <polyline data-testid={`quality-${series}-line`} points={points(samples, series, top)} />
              {series === 'fps' && (
                <polyline
                  class="quality__cap"
                  data-testid="quality-fpsCap-line"
                  points={points(samples, 'fpsCap', top)}
                />
              )}
            </svg>
          </div>
        );
      })}
      <div class="quality__row">
        <div>Adaptation</div>
        <div class="quality__value" data-testid="quality-adaptation" data-prefer={adaptation?.prefer}>
          {adaptation
            ? `${wholeNumber.format(adaptation.fps)} of ${wholeNumber.format(adaptation.maxFps)} fps${adaptation.kbps === undefined ? '' : ` · ≤ ${wholeNumber.format(adaptation.kbps)} kbit/s`} · ${wholeNumber.format(adaptation.backlogMs)} ms on the way`
            : '–'}
        </div>
      </div>
      {onPrefer && (
        <label class="quality__row">
          <span>Slow link</span>
          <select
            data-testid="video-preference"
            value={adaptation?.prefer ?? 'speed'}
            onChange={(event) => onPrefer(event.currentTarget.value as VideoPreference)}
          >
            {(Object.keys(PREFERENCE_LABEL) as VideoPreference[]).map((prefer) => (
              <option key={prefer} value={prefer}>
                {PREFERENCE_LABEL[prefer]}
              </option>
            ))}
          </select>
        </label>
      )}
      <div class="quality__note">
        Last {minutes} minutes, one point a second; each chart scales to its peak. Dashed: the most pictures a
        second the link allows now.
      </div>
    </section>
  );
}

import { CAPABILITIES, CAPABILITY_LABELS } from '../../../protocol/index.ts';
import type { SessionController } from '../session/session-controller.ts';
import type { SessionState } from '../session/session-state.ts';
import { useObservedState } from './hooks.ts';
import { IconActivity } from './icons.tsx';

const wholeNumber = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/**
 * Frames per second, kbit/s and the round trip over the last second, refreshed once a second; a
 * click shows or hides the quality plot.
 */
function LiveStats({
  controller,
  live,
  plotShown,
  onTogglePlot,
}: {
  controller: SessionController;
  live: boolean;
  plotShown: boolean;
  onTogglePlot(): void;
}) {
  const { samples } = useObservedState(controller.quality);
  const rates = live ? samples.at(-1) : undefined;
  return (
    <button
      type="button"
      class="status-bar__stats"
      data-testid="stats"
      aria-pressed={plotShown}
      title={`Pictures drawn, video received and the round trip to the device over the last second. ${plotShown ? 'Hide' : 'Show'} the quality plot.`}
      onClick={onTogglePlot}
    >
      <IconActivity size={13} /> <b>{rates ? wholeNumber.format(rates.fps) : '–'}</b> fps{' · '}
      <b>{rates ? wholeNumber.format(rates.kbps) : '–'}</b> kbit/s{' · '}
      <b>{rates?.rttMs != null ? wholeNumber.format(rates.rttMs) : '–'}</b> ms
    </button>
  );
}

/** The strip under the screen: what the user allows, and how the video is doing. */
export function SessionStatusBar({
  controller,
  state,
  plotShown,
  onTogglePlot,
}: {
  controller: SessionController;
  state: SessionState;
  /** Whether the quality plot shows over the screen. */
  plotShown: boolean;
  onTogglePlot(): void;
}) {
  return (
    <footer class="status-bar">
      <div class="status-bar__permissions">
        <span class="status-bar__label">User allows</span>
        <ul class="permission-badges" aria-label="What the user allows">
          {CAPABILITIES.map((capability) => {
            const on = state.permissions[capability];
            return (
              <li
                key={capability}
                class={`badge ${on ? 'badge--on' : 'badge--off'}`}
                data-testid={`permission-${capability}`}
                data-state={on ? 'on' : 'off'}
                title={`${CAPABILITY_LABELS[capability]}: ${on ? 'allowed' : 'not allowed'}`}
              >
                {CAPABILITY_LABELS[capability]}
              </li>
            );
          })}
        </ul>
      </div>
      <div class="status-bar__video">
        {state.video && (
          <span>
            {state.video.width}×{state.video.height}
          </span>
        )}
        <LiveStats
          controller={controller}
          live={state.phase === 'live'}
          plotShown={plotShown}
          onTogglePlot={onTogglePlot}
        />
      </div>
    </footer>
  );
}

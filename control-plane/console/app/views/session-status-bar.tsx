import { useState } from 'preact/hooks';
import { CAPABILITIES, type Capability } from '../../../../protocol/index.ts';
import { RateMeter, type Rates } from '../media/stats.ts';
import type { SessionController } from '../session/session-controller.ts';
import type { SessionState } from '../session/session-state.ts';
import { useInterval } from './hooks.ts';

const CAPABILITY_LABEL: Record<Capability, string> = {
  view: 'View',
  control: 'Control',
  chat: 'Chat',
  files: 'Files',
  shell: 'Shell',
  clipboard: 'Clipboard',
};

const wholeNumber = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Frames per second and kbit/s over the last second, refreshed once a second. */
function LiveStats({ controller, live }: { controller: SessionController; live: boolean }) {
  const [meter] = useState(() => new RateMeter(controller.stats));
  const [rates, setRates] = useState<Rates | null>(null);
  useInterval(() => setRates(meter.sample()), 1000);
  const show = live && rates !== null;
  return (
    <span
      class="status-bar__stats"
      data-testid="stats"
      title="Pictures drawn and video received over the last second"
    >
      <b>{show ? wholeNumber.format(rates.fps) : '–'}</b> fps{' · '}
      <b>{show ? wholeNumber.format(rates.kbps) : '–'}</b> kbit/s
    </span>
  );
}

/** The strip under the screen: what the user allows, and how the video is doing. */
export function SessionStatusBar({
  controller,
  state,
}: {
  controller: SessionController;
  state: SessionState;
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
                title={`${CAPABILITY_LABEL[capability]}: ${on ? 'allowed' : 'not allowed'}`}
              >
                {CAPABILITY_LABEL[capability]}
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
        <LiveStats controller={controller} live={state.phase === 'live'} />
      </div>
    </footer>
  );
}

import type { SessionController } from '../session/session-controller.ts';
import type { SessionState } from '../session/session-state.ts';
import { DeviceText } from './common/device-text.tsx';

/**
 * The device's monitors as a row of buttons, All first (`[data-testid=monitor-all]`,
 * `[data-testid=monitor-<index>]`); shown only when there are two or more to choose from.
 */
export function MonitorSwitch({ controller, state }: { controller: SessionController; state: SessionState }) {
  const monitors = state.monitors;
  if (monitors?.window)
    return <SharedWindowLabel title={monitors.window.title} hidden={monitors.window.hidden} />;
  if (!monitors || monitors.list.length < 2) return null;
  const usable = state.phase === 'live' && state.permissions.view;
  const choices: Array<{ index: number | null; label: string; title: string }> = [
    { index: null, label: 'All', title: 'Show every monitor' },
    ...monitors.list.map((monitor, index) => ({
      index,
      label: String(index + 1),
      title: `${monitor.name}: ${monitor.width}×${monitor.height}${monitor.primary ? ', primary' : ''}`,
    })),
  ];
  return (
    <fieldset class="segmented monitor-switch" aria-label="Monitors">
      {choices.map(({ index, label, title }) => {
        const active = monitors.selected === index;
        return (
          <button
            key={label}
            type="button"
            class={`segmented__item${active ? ' segmented__item--active' : ''}`}
            aria-pressed={active}
            data-testid={`monitor-${index ?? 'all'}`}
            title={title}
            disabled={!usable}
            onClick={() => controller.selectMonitor(index)}
          >
            {label}
          </button>
        );
      })}
    </fieldset>
  );
}

/**
 * The end user shares one application window instead of the desktop: its title (inert, as the
 * device reports it) in place of the monitor choice, which only the user can widen again.
 */
function SharedWindowLabel({ title, hidden }: { title: string; hidden: boolean }) {
  return (
    <span
      class="shared-window"
      data-testid="shared-window"
      data-hidden={hidden}
      title="The user shares only this window; only they can share the whole screen again"
    >
      One window: <DeviceText text={title} mark={false} />
      {hidden && ' (hidden: nothing is shown)'}
    </span>
  );
}

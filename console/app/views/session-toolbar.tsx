import { peerLabel, statusText } from '../session/describe.ts';
import type { SessionController } from '../session/session-controller.ts';
import { holdsControl, type SessionState } from '../session/session-state.ts';
import { DeviceText } from './common/device-text.tsx';
import { EndSessionButton } from './end-session-button.tsx';
import { IconArrowLeft, IconPointer } from './icons.tsx';
import { MonitorSwitch } from './monitor-switch.tsx';
import { AskAccess } from './tools/ask-access.tsx';
import { ToolButtons } from './tools/tool-buttons.tsx';
import type { ToolPanel } from './tools/tools-dock.tsx';

export type ScaleMode = 'fit' | 'actual';

const SCALES: ReadonlyArray<{ scale: ScaleMode; label: string; title: string }> = [
  { scale: 'fit', label: 'Fit', title: 'Scale the screen to the window' },
  { scale: 'actual', label: '1:1', title: 'One screen pixel per pixel; scroll to see the rest' },
];

function statusTone(state: SessionState): string {
  if (state.phase === 'live') return state.hasPicture || !state.permissions.view ? 'ok' : 'busy';
  if (state.phase === 'connecting' || state.phase === 'waiting') return 'busy';
  return 'off';
}

export interface SessionToolbarProps {
  controller: SessionController;
  state: SessionState;
  scale: ScaleMode;
  onScale(mode: ScaleMode): void;
  onLeave(): void;
  /** The tool panel showing beside the screen, if any. */
  panel: ToolPanel | null;
  onPanel(panel: ToolPanel | null): void;
  /** Background access: no screen, so no scaling and no control. */
  screenless?: boolean;
}

/** Who is on the other end, the status line and the session's actions. */
export function SessionToolbar({
  controller,
  state,
  scale,
  onScale,
  onLeave,
  panel,
  onPanel,
  screenless = false,
}: SessionToolbarProps) {
  const live = state.phase === 'live';
  const meta = [
    state.agent?.os,
    state.agent ? `${state.agent.name} ${state.agent.version}` : undefined,
  ].filter(Boolean);
  const controlHint = !live
    ? 'Available once the user has accepted'
    : state.permissions.control
      ? 'Send your mouse and keyboard to the remote screen'
      : 'The user has not allowed control';

  return (
    <div class="session-bar">
      <div class="session-bar__peer">
        <button
          type="button"
          class="btn btn--icon btn--dark"
          onClick={onLeave}
          data-testid="leave-session"
          title="Leave: back to the dashboard (the session keeps running for the user and the other operators)"
          aria-label="Back to the dashboard"
        >
          <IconArrowLeft size={18} />
        </button>
        <div class="session-bar__who">
          <div class="session-bar__name">
            {state.agent ? <DeviceText text={peerLabel(state.agent)} /> : peerLabel(state.agent)}
          </div>
          <div class="session-bar__meta">
            {meta.length ? <DeviceText text={meta.join(' · ')} mark={false} /> : 'Remote device'}
          </div>
        </div>
      </div>

      <div class={`session-status session-status--${statusTone(state)}`}>
        <span class="session-status__dot" aria-hidden="true" />
        <span class="session-status__text" data-testid="session-status" role="status">
          {statusText(state)}
        </span>
      </div>

      <div class="session-bar__actions">
        <ToolButtons state={state} chat={controller.tools.chat} panel={panel} onPanel={onPanel} />
        {!screenless && <MonitorSwitch controller={controller} state={state} />}
        {!screenless && (
          <fieldset class="segmented" aria-label="Scaling">
            {SCALES.map((item) => (
              <button
                key={item.scale}
                type="button"
                class={`segmented__item${scale === item.scale ? ' segmented__item--active' : ''}`}
                aria-pressed={scale === item.scale}
                data-testid={`scale-${item.scale}`}
                title={item.title}
                onClick={() => onScale(item.scale)}
              >
                {item.label}
              </button>
            ))}
          </fieldset>
        )}
        {/* Asking the user to allow control is the holder's to do; a viewer asks the holder instead. */}
        {!screenless && live && !state.inControl && !state.permissions.control && holdsControl(state) && (
          <AskAccess
            ask={{
              capability: 'control',
              user: state.agent?.user ?? peerLabel(state.agent),
              access: controller.tools.access,
            }}
            label="Ask for control"
          />
        )}
        {screenless ? null : state.inControl ? (
          <button
            key="release"
            type="button"
            class="btn btn--warning"
            data-testid="release-control"
            onClick={() => controller.releaseControl()}
          >
            <IconPointer size={16} /> Release control
          </button>
        ) : live && !holdsControl(state) ? (
          <button
            key="request"
            type="button"
            class="btn btn--primary"
            data-testid="request-control"
            disabled={state.askedForControl}
            title="Ask the operator in control to hand it over to you"
            onClick={() => controller.requestControl()}
          >
            <IconPointer size={16} /> {state.askedForControl ? 'Control requested…' : 'Request control'}
          </button>
        ) : (
          <button
            key="take"
            type="button"
            class="btn btn--primary"
            data-testid="take-control"
            disabled={!live || !state.permissions.control}
            title={controlHint}
            onClick={() => controller.takeControl()}
          >
            <IconPointer size={16} /> Take control
          </button>
        )}
        <EndSessionButton controller={controller} state={state} onLeave={onLeave} />
      </div>
    </div>
  );
}

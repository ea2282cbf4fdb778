import type { ComponentChildren } from 'preact';
import { endReasonText, peerLabel } from '../session/describe.ts';
import type { SessionController } from '../session/session-controller.ts';
import type { SessionState } from '../session/session-state.ts';
import { ErrorBanner } from './error-banner.tsx';

function Card({ children, testId, tone }: { children: ComponentChildren; testId?: string; tone?: 'danger' }) {
  return (
    <div class="overlay">
      <div class={`overlay__card${tone ? ` overlay__card--${tone}` : ''}`} data-testid={testId}>
        {children}
      </div>
    </div>
  );
}

const Spinner = () => <div class="spinner" aria-hidden="true" />;

export interface SessionOverlayProps {
  controller: SessionController;
  state: SessionState;
  onLeave(): void;
  /** Background access: no screen is shared, by design. */
  screenless?: boolean;
}

/** What covers the screen area while there is no live picture: progress, refusals, ends and drops. */
export function SessionOverlay({ controller, state, onLeave, screenless = false }: SessionOverlayProps) {
  const peer = peerLabel(state.agent);
  const back = (
    <button type="button" class="btn btn--secondary" data-testid="back" onClick={onLeave}>
      Back to dashboard
    </button>
  );
  switch (state.phase) {
    case 'connecting':
      return (
        <Card>
          <Spinner />
          <h2 class="overlay__title">Connecting…</h2>
          <p class="overlay__text">Opening a secure connection to the relay.</p>
        </Card>
      );
    case 'waiting':
      return (
        <Card>
          <Spinner />
          <h2 class="overlay__title">Waiting for {peer} to accept…</h2>
          <p class="overlay__text">
            Lifeline is asking the user to let you see their screen. Control, files and shell stay off until
            they allow them.
          </p>
          <button type="button" class="btn btn--secondary" onClick={() => void controller.end()}>
            Cancel request
          </button>
        </Card>
      );
    case 'live':
      if (screenless) {
        return (
          <Card testId="background-access">
            <h2 class="overlay__title">Background access</h2>
            <p class="overlay__text">
              A shell and the files of {peer}, without its screen. Use the Terminal and Files panels.
            </p>
          </Card>
        );
      }
      if (!state.permissions.view) {
        return (
          <Card>
            <h2 class="overlay__title">Screen sharing is paused</h2>
            <p class="overlay__text">
              {peer} paused screen sharing. The picture comes back when they resume it.
            </p>
          </Card>
        );
      }
      if (!state.hasPicture) {
        return (
          <Card>
            <Spinner />
            <h2 class="overlay__title">Starting video…</h2>
            <p class="overlay__text">{peer} accepted. The first picture is on its way.</p>
          </Card>
        );
      }
      return null;
    case 'declined':
      return (
        <Card testId="ended">
          <h2 class="overlay__title">The user declined</h2>
          <p class="overlay__text">{peer} did not allow this session. Nothing was shared.</p>
          <p class="overlay__reason">Reason: consent-refused</p>
          <div class="overlay__actions">{back}</div>
        </Card>
      );
    case 'ended':
      return (
        <Card testId="ended">
          <h2 class="overlay__title">Session ended</h2>
          <p class="overlay__text">{endReasonText(state.ended?.reason)}</p>
          {state.ended?.message && <p class="overlay__text overlay__text--quote">“{state.ended.message}”</p>}
          <p class="overlay__reason">Reason: {state.ended?.reason ?? 'unknown'}</p>
          <div class="overlay__actions">{back}</div>
        </Card>
      );
    case 'lost':
      return (
        <Card testId="connection-lost" tone="danger">
          <h2 class="overlay__title">Connection lost</h2>
          <p class="overlay__text">
            The connection to the relay dropped. The session may still be running on the user's side.
          </p>
          <div class="overlay__actions">
            <button
              type="button"
              class="btn btn--primary"
              data-testid="reconnect"
              onClick={() => void controller.reconnect()}
            >
              Reconnect
            </button>
            {back}
          </div>
        </Card>
      );
    case 'failed':
      return (
        <Card tone="danger">
          <h2 class="overlay__title">Could not connect</h2>
          <ErrorBanner
            message={state.error?.message ?? 'The connection failed.'}
            onRetry={() => void controller.reconnect()}
          />
          <div class="overlay__actions">{back}</div>
        </Card>
      );
  }
}

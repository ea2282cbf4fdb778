import { formatCountdown } from '../../format/time.ts';
import { endReasonText } from '../../session/describe.ts';
import type { InviteController, InviteState } from '../../session/invite-controller.ts';
import { ErrorBanner } from '../error-banner.tsx';
import { useCountdown, useObservedState } from '../hooks.ts';
import { IconClock, IconRefresh, IconX } from '../icons.tsx';
import { DownloadLinks } from './download-links.tsx';
import { ReadAloud } from './read-aloud.tsx';

export interface InvitePanelProps {
  controller: InviteController;
  /** The device group the session's policy comes from, when known. */
  groupName?: string | undefined;
  onDismiss(): void;
}

/** The one line on top of the panel: what the invitation is waiting for, and how that looks. */
function statusOf(state: InviteState, expired: boolean): { tone: 'busy' | 'ok' | 'off'; text: string } {
  if (state.phase === 'joining')
    return { tone: 'ok', text: "The user's device connected. Opening the session…" };
  if (state.phase === 'ended') return { tone: 'off', text: 'This session has ended' };
  if (state.phase === 'failed') return { tone: 'off', text: 'The session could not be opened' };
  if (expired) return { tone: 'off', text: 'The code has expired' };
  if (state.reconnecting) return { tone: 'busy', text: 'Lost contact with the control plane. Retrying…' };
  return { tone: 'busy', text: 'Waiting for the user to start Lifeline…' };
}

function Status({ state, expired }: { state: InviteState; expired: boolean }) {
  const { tone, text } = statusOf(state, expired);
  return (
    <div class={`invite-status invite-status--${tone}`} role="status" data-testid="invite-status">
      <span class="invite-status__dot" aria-hidden="true" />
      {text}
    </div>
  );
}

/**
 * The operator-first session while it waits for the user: the code big and grouped with its
 * countdown, Request new / Extend / Cancel, the download links and what to tell the user.
 */
export function InvitePanel({ controller, groupName, onDismiss }: InvitePanelProps) {
  const state = useObservedState(controller);
  const secondsLeft = useCountdown(state.expiresAt);
  const expired = state.phase === 'expired' || secondsLeft === 0;
  const busy = state.pending !== null;
  const closed = state.phase === 'ended';

  if (closed) {
    return (
      <div class="invite-panel">
        <h2 id="invite-title" class="card__title">
          Invitation
        </h2>
        <Status state={state} expired={expired} />
        <p class="invite-panel__text">
          {state.error ?? endReasonText(state.session.endReason)} Start a new session to try again.
        </p>
        <div class="invite-actions">
          <button type="button" class="btn btn--secondary" data-testid="invite-dismiss" onClick={onDismiss}>
            Close
          </button>
        </div>
      </div>
    );
  }

  return (
    <div class="invite-panel" data-phase={expired ? 'expired' : state.phase}>
      <div class="invite-panel__head">
        <h2 id="invite-title" class="card__title">
          Invitation
        </h2>
        <p class="invite-panel__meta">
          {groupName ? `${groupName} group · ` : ''}session{' '}
          <span class="invite-panel__id" title={state.session.id}>
            {state.session.id.slice(0, 8)}
          </span>
        </p>
        <Status state={state} expired={expired} />
      </div>

      <div class={`code-display${expired ? ' code-display--expired' : ''}`}>
        <div class="code-display__label">Connection code</div>
        <div class="code-display__code" data-testid="session-code">
          {state.displayCode}
        </div>
        <div class="code-display__timer">
          <IconClock size={14} />
          <span>{expired ? 'Expired' : 'Expires in'}</span>
          <span
            class="code-display__countdown"
            data-testid="code-countdown"
            data-expires-at={state.codeExpiresAt}
            role="timer"
          >
            {expired ? '0:00' : formatCountdown(secondsLeft)}
          </span>
        </div>
        <progress
          class="code-display__progress"
          max={state.lifetimeSeconds}
          value={Math.min(secondsLeft, state.lifetimeSeconds)}
          aria-label="Time left for the code"
        />
      </div>

      {expired && state.phase !== 'joining' && (
        <p class="invite-panel__expired" data-testid="code-expired">
          This code has expired and no longer works. Request a new one and give it to the user.
        </p>
      )}

      <div class="invite-actions">
        <button
          type="button"
          class={`btn ${expired ? 'btn--primary' : 'btn--secondary'}`}
          data-testid="request-new-code"
          disabled={busy || state.phase === 'joining'}
          onClick={() => void controller.renew()}
        >
          <IconRefresh size={15} /> {state.pending === 'renew' ? 'Requesting…' : 'Request new'}
        </button>
        {!expired && (
          <button
            type="button"
            class="btn btn--secondary"
            data-testid="extend-code"
            disabled={busy || state.phase === 'joining'}
            onClick={() => void controller.extend()}
          >
            <IconClock size={15} /> {state.pending === 'extend' ? 'Extending…' : 'Extend'}
          </button>
        )}
        <button
          type="button"
          class="btn btn--ghost-danger"
          data-testid="cancel-session"
          disabled={busy}
          onClick={() => void controller.cancel()}
        >
          <IconX size={15} /> {state.pending === 'cancel' ? 'Cancelling…' : 'Cancel'}
        </button>
      </div>

      {state.error && (
        <ErrorBanner
          message={state.error}
          {...(state.phase === 'failed'
            ? { onRetry: () => void controller.retryJoin(), retryLabel: 'Open the session' }
            : {})}
        />
      )}

      <DownloadLinks downloads={state.downloads} />
      <ReadAloud displayCode={state.displayCode} downloads={state.downloads} />
    </div>
  );
}

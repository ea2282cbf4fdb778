import type { TargetedSubmitEvent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { isApiCallError } from '../api/client.ts';
import { invitationStatus, openInvitation } from '../api/sessions.ts';
import type { SessionGrant } from '../api/types.ts';
import { formatDateTime } from '../format/time.ts';
import { ErrorBanner } from './error-banner.tsx';
import { useAction, useLockout, useResource } from './hooks.ts';

export interface InvitationCardProps {
  /** The invitation the link names (`#/sessions?invitation=<id>`). */
  id: string;
  onJoined(grant: SessionGrant): void;
  /** Back to the ordinary Connect card. */
  onClose(): void;
}

const STATUS_TEXT = {
  expired: 'This invitation has expired. Ask the user to create a new one.',
  used: 'This invitation was already opened by another helper.',
} as const;

/**
 * An end user's invitation, opened from its link: the helper types the password the user told them
 * and connects; the user is then asked to accept, as with a code. Expired and used invitations say
 * so at once; wrong passwords are refused and, past a few, slowed down by the server.
 */
export function InvitationCard({ id, onJoined, onClose }: InvitationCardProps) {
  const status = useResource(() => invitationStatus(id), [id]);
  const [password, setPassword] = useState('');
  const { busy, error, run } = useAction();
  const lockout = useLockout();
  const { secondsLeft } = lockout;
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => inputRef.current?.focus(), [status.data]);

  const open = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy || secondsLeft > 0 || !password) return;
    await run(
      async () => onJoined(await openInvitation(id, password)),
      'Something went wrong.',
      (caught) => {
        lockout.lockOn(caught);
        if (
          isApiCallError(caught) &&
          (caught.kind === 'INVITATION_EXPIRED' || caught.kind === 'INVITATION_USED')
        )
          void status.reload();
        setPassword('');
        inputRef.current?.focus();
      },
    );
  };

  const state = status.data?.status;
  const closed = state === 'expired' || state === 'used' ? STATUS_TEXT[state] : null;
  const locked = secondsLeft > 0;
  return (
    <section
      class="card connect-card"
      aria-labelledby="invitation-title"
      data-testid="invitation-card"
      data-status={state ?? (status.error ? 'unknown' : 'loading')}
    >
      <h1 id="invitation-title" class="card__title">
        Open an invitation
      </h1>
      <p class="card__lead">
        A user invited you to help them.
        {status.data &&
          state === 'open' &&
          ` The invitation works until ${formatDateTime(status.data.expiresAt)}.`}
      </p>
      {status.error && <ErrorBanner message={status.error} onRetry={() => void status.reload()} />}
      {closed && <ErrorBanner message={closed} />}
      {state === 'open' && (
        <form class="connect-form" onSubmit={open} noValidate>
          <label class="field__label" for="invitation-password">
            The password the user told you
          </label>
          <div class="connect-form__row">
            <input
              id="invitation-password"
              ref={inputRef}
              class="input"
              type="password"
              autocomplete="off"
              value={password}
              disabled={busy}
              aria-invalid={error !== null}
              data-testid="invitation-password"
              onInput={(event) => setPassword(event.currentTarget.value)}
            />
            <button
              type="submit"
              class="btn btn--primary btn--large"
              data-testid="invitation-open"
              disabled={busy || locked || !password}
            >
              {busy ? 'Connecting…' : 'Connect'}
            </button>
          </div>
          {error && (
            <ErrorBanner message={locked ? `${error} You can try again in ${secondsLeft} s.` : error} />
          )}
        </form>
      )}
      <ul class="connect-card__hints">
        <li>The user is asked to accept before you see anything.</li>
        <li>
          <button
            type="button"
            class="btn btn--small btn--ghost"
            data-testid="invitation-close"
            onClick={onClose}
          >
            Connect with a code instead
          </button>
        </li>
      </ul>
    </section>
  );
}

import type { TargetedSubmitEvent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { INVITATION_FILE_MAX_BYTES, readInvitationFile } from '../../../protocol/api/index.ts';
import { invitationHash } from '../../../protocol/console-link.ts';
import { CONNECTION_CODE_DIGITS, normalizeConnectionCode } from '../../../protocol/index.ts';
import { redeemCode } from '../api/sessions.ts';
import type { SessionGrant } from '../api/types.ts';
import { CodeInput } from './code-input.tsx';
import { ErrorBanner } from './error-banner.tsx';
import { useAction, useLockout } from './hooks.ts';

export interface ConnectCardProps {
  onJoined(grant: SessionGrant): void;
}

/** User first: the operator types the code the user reads out and connects. */
export function ConnectCard({ onJoined }: ConnectCardProps) {
  const [code, setCode] = useState('');
  const { busy, error, setError, run } = useAction();
  const lockout = useLockout();
  const { secondsLeft } = lockout;
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => inputRef.current?.focus(), []);

  const connect = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy || secondsLeft > 0) return;
    const bare = normalizeConnectionCode(code);
    if (!bare) {
      setError(`A connection code has ${CONNECTION_CODE_DIGITS} digits. Check the code with the user.`);
      inputRef.current?.focus();
      return;
    }
    await run(async () => onJoined(await redeemCode(bare)), 'Something went wrong.', lockout.lockOn);
  };

  const tryAgain = () => {
    setError(null);
    lockout.unlock();
    setCode('');
    inputRef.current?.focus();
  };

  const changeCode = (formatted: string) => {
    setCode(formatted);
    // A new attempt replaces the old complaint, unless the server asked to wait.
    if (secondsLeft === 0) setError(null);
  };

  const openInvitationFile = async (file: File | undefined) => {
    if (!file) return;
    // A file too large to be one is not read at all.
    const read = readInvitationFile(file.size > INVITATION_FILE_MAX_BYTES ? '' : await file.text());
    if (!read.ok) {
      setError(`${file.name}: ${read.problem} Ask the user for the link or the file again.`);
      return;
    }
    if (read.origin !== location.origin) {
      setError(`${file.name} is an invitation for ${read.origin}, not this console. Open it there.`);
      return;
    }
    setError(null);
    location.hash = invitationHash(read.invitationId);
  };

  const locked = secondsLeft > 0;
  return (
    <section
      class="card connect-card"
      aria-labelledby="connect-title"
      onDragOver={(event) => event.preventDefault()}
      onDrop={(event) => {
        event.preventDefault();
        void openInvitationFile(event.dataTransfer?.files[0]);
      }}
    >
      <h1 id="connect-title" class="card__title">
        Connect to a device
      </h1>
      <p class="card__lead">
        Ask the user to start Lifeline and read you the {CONNECTION_CODE_DIGITS}-digit code it shows.
      </p>
      <form class="connect-form" onSubmit={connect} noValidate>
        <label class="field__label" for="connection-code">
          Connection code
        </label>
        <div class="connect-form__row">
          <CodeInput
            value={code}
            onChange={changeCode}
            inputRef={inputRef}
            disabled={busy}
            invalid={error !== null}
          />
          <button
            type="submit"
            class="btn btn--primary btn--large"
            data-testid="connect"
            disabled={busy || locked}
          >
            {busy ? 'Connecting…' : 'Connect'}
          </button>
        </div>
        {error && (
          <ErrorBanner
            message={locked ? `${error} You can try again in ${secondsLeft} s.` : error}
            onRetry={tryAgain}
            retryDisabled={locked}
          />
        )}
      </form>
      <p class="connect-card__invitation">
        The user sent an invitation file?{' '}
        <label class="btn btn--link">
          Open it
          <input
            type="file"
            class="visually-hidden"
            accept=".lifeline-invitation,.json,application/json"
            data-testid="invitation-file"
            onChange={(event) => {
              const input = event.currentTarget;
              void openInvitationFile(input.files?.[0]).finally(() => {
                input.value = '';
              });
            }}
          />
        </label>{' '}
        or drop it here.
      </p>
      <ul class="connect-card__hints">
        <li>The user is asked to accept before you see anything.</li>
        <li>Control, files and shell stay off until the user allows them.</li>
      </ul>
    </section>
  );
}

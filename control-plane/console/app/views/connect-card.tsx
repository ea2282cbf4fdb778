import type { TargetedSubmitEvent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { CONNECTION_CODE_DIGITS, normalizeConnectionCode } from '../../../../protocol/index.ts';
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

  const locked = secondsLeft > 0;
  return (
    <section class="card connect-card" aria-labelledby="connect-title">
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
      <ul class="connect-card__hints">
        <li>The user is asked to accept before you see anything.</li>
        <li>Control, files and shell stay off until the user allows them.</li>
      </ul>
    </section>
  );
}

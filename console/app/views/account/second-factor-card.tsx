import type { TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { enableTotp, setupTotp } from '../../api/auth.ts';
import type { Operator } from '../../api/types.ts';
import { CopyButton } from '../common/copy-button.tsx';
import { BusyButton } from '../common/fields.tsx';
import { Notice } from '../common/notice.tsx';
import { ErrorBanner } from '../error-banner.tsx';
import { useAction } from '../hooks.ts';
import { IconShield } from '../icons.tsx';

export interface SecondFactorCardProps {
  operator: Operator;
  onEnabled(operator: Operator): void;
}

/** Groups a base32 secret in fours, as authenticator apps show and accept it. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

/**
 * Turning on the second factor: a new secret for an authenticator app (as text and as an
 * `otpauth://` link), then a current code to confirm it.
 */
export function SecondFactorCard({ operator, onEnabled }: SecondFactorCardProps) {
  const [pending, setPending] = useState<{ secret: string; uri: string } | null>(null);
  const [code, setCode] = useState('');
  const { busy, error, setError, run } = useAction();
  const [justEnabled, setJustEnabled] = useState(false);

  const start = () =>
    run(async () => setPending(await setupTotp()), 'The second factor could not be set up.');

  const confirm = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const digits = code.replace(/\s/g, '');
    if (!/^\d{6}$/.test(digits)) {
      setError('Enter the 6-digit code the app shows now.');
      return;
    }
    await run(async () => {
      const updated = await enableTotp(digits);
      setPending(null);
      setJustEnabled(true);
      onEnabled(updated);
    }, 'The code was not accepted.');
  };

  return (
    <section class="card" aria-labelledby="totp-title">
      <h2 id="totp-title" class="section-title">
        <IconShield size={16} /> Second factor
        <span
          class={`status-pill ${operator.totpEnabled ? 'status-pill--active' : 'status-pill--ended'}`}
          data-testid="totp-status"
        >
          {operator.totpEnabled ? 'On' : 'Off'}
        </span>
      </h2>
      {operator.totpEnabled ? (
        <>
          {justEnabled && (
            <Notice>The second factor is on. Sign-ins now ask for a code from your app.</Notice>
          )}
          <p class="section-lead">
            Signing in asks for a 6-digit code from your authenticator app after your password. Keep the app:
            the console cannot turn the second factor off or move it to another phone.
          </p>
        </>
      ) : pending ? (
        <form class="form" onSubmit={confirm} noValidate>
          <ol class="steps">
            <li>
              In your authenticator app, add an account and enter this key (time-based, 6 digits, 30 s):
              <div class="secret-row">
                <code class="secret-row__value" data-testid="totp-secret">
                  {grouped(pending.secret)}
                </code>
                <CopyButton text={pending.secret} class="btn--small" testId="totp-secret-copy" />
              </div>
              <details class="disclosure">
                <summary>Or use the setup link</summary>
                <div class="secret-row">
                  <code class="secret-row__value secret-row__value--wrap" data-testid="totp-uri">
                    {pending.uri}
                  </code>
                  <CopyButton text={pending.uri} class="btn--small" label="Copy link" />
                </div>
              </details>
            </li>
            <li>
              <label class="field">
                <span>Enter the code the app shows now:</span>
                <input
                  class="input input--totp"
                  name="code"
                  inputMode="numeric"
                  autocomplete="one-time-code"
                  maxLength={7}
                  placeholder="123456"
                  data-testid="totp-setup-code"
                  value={code}
                  onInput={(event) => setCode(event.currentTarget.value)}
                />
              </label>
            </li>
          </ol>
          {error && <ErrorBanner message={error} />}
          <div class="form-actions">
            <BusyButton type="submit" busy={busy} busyLabel="Checking…" testId="totp-enable">
              Turn on
            </BusyButton>
          </div>
        </form>
      ) : (
        <>
          <p class="section-lead">
            Protect your account with a code from an authenticator app on your phone, asked after your
            password at every sign-in.
          </p>
          {error && <ErrorBanner message={error} />}
          <div class="form-actions">
            <BusyButton busy={busy} busyLabel="Preparing…" testId="totp-setup" onClick={() => void start()}>
              Set up the second factor
            </BusyButton>
          </div>
        </>
      )}
    </section>
  );
}

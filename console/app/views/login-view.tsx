import type { TargetedSubmitEvent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { login, whoAmI } from '../api/auth.ts';
import { isApiCallError } from '../api/client.ts';
import type { Identity } from '../api/types.ts';
import { ErrorBanner } from './error-banner.tsx';
import { useAction, useLockout } from './hooks.ts';
import { LogoMark } from './icons.tsx';

export interface LoginViewProps {
  onSignedIn(identity: Identity): void;
  /** Shown above the form, for example after the sign-in expired. */
  message?: string | null;
}

/** The username and password that were right, kept while the second factor is asked for. */
interface Credentials {
  username: string;
  password: string;
}

function submitLabel(busy: boolean, lockedSeconds: number, secondStep: boolean): string {
  if (busy) return secondStep ? 'Verifying…' : 'Signing in…';
  if (lockedSeconds > 0) return `Try again in ${lockedSeconds} s`;
  return secondStep ? 'Verify' : 'Sign in';
}

/**
 * The operator sign-in form. Too many attempts lock the form with a countdown; an account with a
 * second factor is asked for the authenticator code next (`[data-testid=totp-input]`).
 */
export function LoginView({ onSignedIn, message }: LoginViewProps) {
  const { busy, error, setError, run } = useAction(message ?? null);
  const lockout = useLockout();
  const [secondFactor, setSecondFactor] = useState<Credentials | null>(null);
  const { secondsLeft } = lockout;
  const locked = secondsLeft > 0;
  const passwordRef = useRef<HTMLInputElement>(null);
  const totpRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (secondFactor) totpRef.current?.focus();
  }, [secondFactor]);

  const attempt = (credentials: Credentials, totp?: string) =>
    run(
      async () => {
        const operator = await login(credentials.username, credentials.password, totp);
        // The login answer names the operator; what they may do comes with who-am-I.
        onSignedIn((await whoAmI()) ?? { operator, scopes: [] });
      },
      'Sign-in failed.',
      (caught) => {
        lockout.lockOn(caught);
        if (isApiCallError(caught) && caught.kind === 'SECOND_FACTOR_REQUIRED') {
          setSecondFactor(credentials);
          if (totp === undefined) setError(null);
          if (totpRef.current) {
            totpRef.current.value = '';
            totpRef.current.focus();
          }
        } else if (secondFactor) {
          totpRef.current?.focus();
        } else if (passwordRef.current) {
          passwordRef.current.value = '';
          passwordRef.current.focus();
        }
      },
    );

  const submit = (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy || locked) return;
    const form = new FormData(event.currentTarget);
    if (secondFactor) {
      const code = String(form.get('totp') ?? '').replace(/\s/g, '');
      if (!/^\d{6}$/.test(code)) {
        setError('Enter the 6-digit code from your authenticator app.');
        return;
      }
      void attempt(secondFactor, code);
      return;
    }
    const username = String(form.get('username') ?? '').trim();
    const password = String(form.get('password') ?? '');
    if (!username || !password) {
      setError('Enter your username and password.');
      return;
    }
    void attempt({ username, password });
  };

  const retry = () => {
    setError(null);
    lockout.unlock();
    (secondFactor ? totpRef : passwordRef).current?.focus();
  };

  const startOver = () => {
    setSecondFactor(null);
    setError(null);
  };

  return (
    <main class="login">
      <div class="login__card">
        <div class="login__brand">
          <LogoMark size={40} />
          <div>
            <div class="login__product">Lifeline</div>
            <div class="login__tagline">Remote assistance console</div>
          </div>
        </div>
        <h1 class="login__title">{secondFactor ? 'Two-step verification' : 'Sign in'}</h1>
        <form class="form" onSubmit={submit} noValidate>
          {secondFactor ? (
            <>
              <p class="login__lead" key="lead">
                Enter the 6-digit code your authenticator app shows for <b>{secondFactor.username}</b>.
              </p>
              {/* Keyed apart from the password field, so Preact never reuses it with the password in it. */}
              <label class="field" key="totp">
                <span class="field__label">Authenticator code</span>
                <input
                  class="input input--totp"
                  ref={totpRef}
                  name="totp"
                  data-testid="totp-input"
                  inputMode="numeric"
                  autocomplete="one-time-code"
                  maxLength={7}
                  placeholder="123456"
                  spellcheck={false}
                  required
                />
              </label>
            </>
          ) : (
            <>
              <label class="field" key="username">
                <span class="field__label">Username</span>
                <input
                  class="input"
                  name="username"
                  autocomplete="username"
                  autocapitalize="none"
                  spellcheck={false}
                  required
                  autofocus
                />
              </label>
              <label class="field" key="password">
                <span class="field__label">Password</span>
                <input
                  class="input"
                  ref={passwordRef}
                  name="password"
                  type="password"
                  autocomplete="current-password"
                  required
                />
              </label>
            </>
          )}
          {error && (
            <ErrorBanner
              message={locked ? `${error} You can try again in ${secondsLeft} s.` : error}
              onRetry={retry}
              retryDisabled={locked}
            />
          )}
          <button type="submit" class="btn btn--primary btn--block btn--large" disabled={busy || locked}>
            {submitLabel(busy, locked ? secondsLeft : 0, secondFactor !== null)}
          </button>
          {secondFactor && (
            <button type="button" class="btn btn--link" onClick={startOver}>
              Use another account
            </button>
          )}
        </form>
      </div>
      <p class="login__footer">Only help-desk staff of your organisation can sign in here.</p>
    </main>
  );
}

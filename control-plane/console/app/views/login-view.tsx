import type { TargetedSubmitEvent } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { isApiError } from '../api/client.ts';
import { login } from '../api/endpoints.ts';
import type { Operator } from '../api/types.ts';
import { ErrorBanner } from './error-banner.tsx';
import { useCountdown } from './hooks.ts';
import { LogoMark } from './icons.tsx';

export interface LoginViewProps {
  onSignedIn(operator: Operator): void;
  /** Shown above the form, for example after the sign-in expired. */
  message?: string | null;
}

/** The operator sign-in form. Too many attempts lock the form with a countdown. */
export function LoginView({ onSignedIn, message }: LoginViewProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(message ?? null);
  const [lockedUntil, setLockedUntil] = useState<number | null>(null);
  const secondsLeft = useCountdown(lockedUntil);
  const locked = secondsLeft > 0;
  const passwordRef = useRef<HTMLInputElement>(null);

  const submit = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy || locked) return;
    const form = new FormData(event.currentTarget);
    const username = String(form.get('username') ?? '').trim();
    const password = String(form.get('password') ?? '');
    if (!username || !password) {
      setError('Enter your username and password.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await login(username, password));
    } catch (caught) {
      const detail = caught instanceof Error ? caught.message : 'Sign-in failed.';
      setError(detail);
      if (isApiError(caught) && caught.kind === 'TOO_FREQUENT') {
        setLockedUntil(Date.now() + (caught.retryAfterSeconds ?? 30) * 1000);
      }
      if (passwordRef.current) {
        passwordRef.current.value = '';
        passwordRef.current.focus();
      }
    } finally {
      setBusy(false);
    }
  };

  const retry = () => {
    setError(null);
    setLockedUntil(null);
    passwordRef.current?.focus();
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
        <h1 class="login__title">Sign in</h1>
        <form class="form" onSubmit={submit} noValidate>
          <label class="field">
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
          <label class="field">
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
          {error && (
            <ErrorBanner
              message={locked ? `${error} You can try again in ${secondsLeft} s.` : error}
              onRetry={retry}
              retryDisabled={locked}
            />
          )}
          <button type="submit" class="btn btn--primary btn--block btn--large" disabled={busy || locked}>
            {busy ? 'Signing in…' : locked ? `Try again in ${secondsLeft} s` : 'Sign in'}
          </button>
        </form>
      </div>
      <p class="login__footer">Only help-desk staff of your organisation can sign in here.</p>
    </main>
  );
}

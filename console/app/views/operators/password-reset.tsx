import type { TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { updateOperator } from '../../api/operators.ts';
import type { Operator } from '../../api/types.ts';
import { ErrorBanner } from '../error-banner.tsx';
import { useAction } from '../hooks.ts';
import { generatePassword, MIN_PASSWORD_LENGTH } from './passwords.ts';

export interface PasswordResetProps {
  operator: Operator;
  onDone(operator: Operator): void;
  onCancel(): void;
}

/** Sets a new password for an operator (who is signed out everywhere by it). */
export function PasswordReset({ operator, onDone, onCancel }: PasswordResetProps) {
  const [password, setPassword] = useState('');
  const { busy, error, setError, run } = useAction();

  const submit = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (password.length < MIN_PASSWORD_LENGTH) {
      setError(`Passwords need at least ${MIN_PASSWORD_LENGTH} characters.`);
      return;
    }
    await run(
      async () => onDone(await updateOperator(operator.id, { password })),
      'The password could not be changed.',
    );
  };

  return (
    <form class="inline-form" onSubmit={submit} noValidate>
      <label class="inline-form__label" for={`password-${operator.id}`}>
        New password for {operator.username}
      </label>
      <input
        id={`password-${operator.id}`}
        class="input input--mono"
        name="password"
        autocomplete="new-password"
        spellcheck={false}
        data-testid="operator-new-password"
        value={password}
        onInput={(event) => setPassword(event.currentTarget.value)}
      />
      <button type="button" class="btn btn--ghost btn--small" onClick={() => setPassword(generatePassword())}>
        Generate
      </button>
      <button
        type="submit"
        class="btn btn--primary btn--small"
        data-testid="operator-save-password"
        disabled={busy}
      >
        {busy ? 'Saving…' : 'Set password'}
      </button>
      <button type="button" class="btn btn--secondary btn--small" onClick={onCancel} disabled={busy}>
        Cancel
      </button>
      {error && <ErrorBanner message={error} />}
    </form>
  );
}

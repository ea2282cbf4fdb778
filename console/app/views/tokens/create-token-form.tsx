import { useState } from 'preact/hooks';
import { SCOPE_DESCRIPTIONS, SCOPES, type Scope } from '../../api/scopes.ts';
import { createToken } from '../../api/tokens.ts';
import type { NewApiToken } from '../../api/types.ts';
import { CreateForm } from '../common/create-form.tsx';
import { SelectField, TextField } from '../common/fields.tsx';
import { useAction } from '../hooks.ts';

/** Lifetimes offered, in days; the control plane allows up to 366. */
const EXPIRY_DAYS = [7, 30, 90, 180, 366] as const;

export interface CreateTokenFormProps {
  onCreated(token: NewApiToken): void;
}

/** A new API token: a name, its scopes and how long it lives. */
export function CreateTokenForm({ onCreated }: CreateTokenFormProps) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['sessions:read', 'sessions:write']);
  const [days, setDays] = useState<number>(90);
  const { busy, error, setError, run } = useAction();

  const toggle = (scope: Scope, on: boolean) =>
    setScopes((before) => (on ? [...before, scope] : before.filter((item) => item !== scope)));

  const submit = () => {
    if (!name.trim()) {
      setError('Name the token after the script that uses it.');
      return;
    }
    if (scopes.length === 0) {
      setError('Choose at least one scope.');
      return;
    }
    void run(async () => {
      // In the order of the list, so the same choice always reads the same.
      onCreated(
        await createToken(
          name.trim(),
          SCOPES.filter((scope) => scopes.includes(scope)),
          days,
        ),
      );
      setName('');
    }, 'The token could not be created.');
  };

  return (
    <CreateForm
      title="Create a token"
      titleId="new-token-title"
      testId="create-token-form"
      submit={{ label: 'Create token', busyLabel: 'Creating…', testId: 'create-token' }}
      busy={busy}
      error={error}
      onSubmit={submit}
    >
      <TextField
        label="Name"
        name="name"
        placeholder="For example: nightly-inventory"
        testId="new-token-name"
        maxLength={100}
        value={name}
        onValue={setName}
      />
      <fieldset class="scope-choices">
        <legend class="field__label">Scopes</legend>
        {SCOPES.map((scope) => (
          <label key={scope} class="check check--block">
            <input
              type="checkbox"
              name={`scope-${scope}`}
              data-testid={`token-scope-${scope}`}
              checked={scopes.includes(scope)}
              onChange={(event) => toggle(scope, event.currentTarget.checked)}
            />
            <code class="scope">{scope}</code>
            <span class="check__hint">{SCOPE_DESCRIPTIONS[scope]}</span>
          </label>
        ))}
      </fieldset>
      <SelectField
        label="Expires after"
        name="expiresInDays"
        testId="new-token-expiry"
        value={String(days)}
        onValue={(value) => setDays(Number(value))}
        choices={EXPIRY_DAYS.map((count) => ({ value: String(count), label: `${count} days` }))}
      />
    </CreateForm>
  );
}

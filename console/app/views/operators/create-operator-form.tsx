import type { TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { createOperator } from '../../api/operators.ts';
import type { Operator, Organisation, Role } from '../../api/types.ts';
import { ROLES, roleHint, roleLabel } from '../../format/roles.ts';
import { ErrorBanner } from '../error-banner.tsx';
import { useAction } from '../hooks.ts';
import { IconPlus } from '../icons.tsx';
import { generatePassword, MIN_PASSWORD_LENGTH } from './passwords.ts';

export interface CreateOperatorFormProps {
  organisations: Organisation[];
  defaultOrganisationId: string;
  onCreated(operator: Operator): void;
}

const EMPTY = { username: '', name: '', password: '' };

/** A new operator account: username, name, initial password, role and organisation. */
export function CreateOperatorForm({
  organisations,
  defaultOrganisationId,
  onCreated,
}: CreateOperatorFormProps) {
  const [fields, setFields] = useState(EMPTY);
  const [role, setRole] = useState<Role>('technician');
  const [organisationId, setOrganisationId] = useState(defaultOrganisationId);
  const { busy, error, setError, run } = useAction();

  const set = (name: keyof typeof EMPTY) => (event: { currentTarget: HTMLInputElement }) =>
    setFields((before) => ({ ...before, [name]: event.currentTarget.value }));

  const submit = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    const username = fields.username.trim();
    const name = fields.name.trim();
    if (!/^[\w.@-]+$/.test(username)) {
      setError('Usernames use letters, digits and . _ - @ only.');
      return;
    }
    if (!name) {
      setError('Enter the operator’s name.');
      return;
    }
    if (fields.password.length < MIN_PASSWORD_LENGTH) {
      setError(`Passwords need at least ${MIN_PASSWORD_LENGTH} characters.`);
      return;
    }
    await run(async () => {
      onCreated(await createOperator({ username, name, password: fields.password, role, organisationId }));
      setFields(EMPTY);
    }, 'The operator could not be created.');
  };

  return (
    <section class="card" aria-labelledby="new-operator-title">
      <h2 id="new-operator-title" class="section-title">
        Add an operator
      </h2>
      <form class="form" onSubmit={submit} noValidate data-testid="create-operator-form">
        <div class="form-row">
          <label class="field">
            <span class="field__label">Username</span>
            <input
              class="input"
              name="username"
              autocomplete="off"
              autocapitalize="none"
              spellcheck={false}
              data-testid="new-operator-username"
              value={fields.username}
              onInput={set('username')}
            />
          </label>
          <label class="field">
            <span class="field__label">Name</span>
            <input
              class="input"
              name="name"
              autocomplete="off"
              data-testid="new-operator-name"
              value={fields.name}
              onInput={set('name')}
            />
          </label>
        </div>
        <label class="field">
          <span class="field__label">Initial password</span>
          <span class="input-group">
            <input
              class="input input--mono"
              name="password"
              autocomplete="new-password"
              spellcheck={false}
              data-testid="new-operator-password"
              value={fields.password}
              onInput={set('password')}
            />
            <button
              type="button"
              class="btn btn--secondary"
              onClick={() => setFields((before) => ({ ...before, password: generatePassword() }))}
            >
              Generate
            </button>
          </span>
          <span class="field__hint">
            At least {MIN_PASSWORD_LENGTH} characters. Give it to the operator safely.
          </span>
        </label>
        <div class="form-row">
          <label class="field">
            <span class="field__label">Role</span>
            <select
              class="input select"
              name="role"
              data-testid="new-operator-role"
              value={role}
              onChange={(event) => setRole(event.currentTarget.value as Role)}
            >
              {ROLES.map((item) => (
                <option key={item} value={item}>
                  {roleLabel(item)}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span class="field__label">Organisation</span>
            <select
              class="input select"
              name="organisationId"
              data-testid="new-operator-organisation"
              value={organisationId}
              onChange={(event) => setOrganisationId(event.currentTarget.value)}
            >
              {organisations.map((organisation) => (
                <option key={organisation.id} value={organisation.id}>
                  {organisation.name}
                </option>
              ))}
            </select>
          </label>
        </div>
        <p class="field__hint">{roleHint(role)}.</p>
        {error && <ErrorBanner message={error} />}
        <div class="form-actions">
          <button type="submit" class="btn btn--primary" data-testid="create-operator" disabled={busy}>
            <IconPlus size={15} /> {busy ? 'Adding…' : 'Add operator'}
          </button>
        </div>
      </form>
    </section>
  );
}

import { useState } from 'preact/hooks';
import { createOperator } from '../../api/operators.ts';
import type { Operator, Organisation, Role } from '../../api/types.ts';
import { ROLES, roleHint, roleLabel } from '../../format/roles.ts';
import { CreateForm } from '../common/create-form.tsx';
import { Field, SelectField, TextField } from '../common/fields.tsx';
import { useAction } from '../hooks.ts';
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

  const set = (name: keyof typeof EMPTY) => (value: string) =>
    setFields((before) => ({ ...before, [name]: value }));

  const submit = () => {
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
    void run(async () => {
      onCreated(await createOperator({ username, name, password: fields.password, role, organisationId }));
      setFields(EMPTY);
    }, 'The operator could not be created.');
  };

  return (
    <CreateForm
      title="Add an operator"
      titleId="new-operator-title"
      testId="create-operator-form"
      submit={{ label: 'Add operator', busyLabel: 'Adding…', testId: 'create-operator' }}
      busy={busy}
      error={error}
      onSubmit={submit}
    >
      <div class="form-row">
        <TextField
          label="Username"
          name="username"
          autocomplete="off"
          autocapitalize="none"
          spellcheck={false}
          testId="new-operator-username"
          value={fields.username}
          onValue={set('username')}
        />
        <TextField
          label="Name"
          name="name"
          autocomplete="off"
          testId="new-operator-name"
          value={fields.name}
          onValue={set('name')}
        />
      </div>
      <Field
        label="Initial password"
        hint={<>At least {MIN_PASSWORD_LENGTH} characters. Give it to the operator safely.</>}
      >
        <span class="input-group">
          <input
            class="input input--mono"
            name="password"
            autocomplete="new-password"
            spellcheck={false}
            data-testid="new-operator-password"
            value={fields.password}
            onInput={(event) => set('password')(event.currentTarget.value)}
          />
          <button
            type="button"
            class="btn btn--secondary"
            onClick={() => set('password')(generatePassword())}
          >
            Generate
          </button>
        </span>
      </Field>
      <div class="form-row">
        <SelectField
          label="Role"
          name="role"
          testId="new-operator-role"
          value={role}
          onValue={(value) => setRole(value as Role)}
          choices={ROLES.map((item) => ({ value: item, label: roleLabel(item) }))}
        />
        <SelectField
          label="Organisation"
          name="organisationId"
          testId="new-operator-organisation"
          value={organisationId}
          onValue={setOrganisationId}
          choices={organisations.map((organisation) => ({
            value: organisation.id,
            label: organisation.name,
          }))}
        />
      </div>
      <p class="field__hint">{roleHint(role)}.</p>
    </CreateForm>
  );
}

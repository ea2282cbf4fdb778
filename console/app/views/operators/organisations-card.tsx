import type { TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { createOrganisation } from '../../api/operators.ts';
import type { Operator, Organisation } from '../../api/types.ts';
import { ErrorBanner } from '../error-banner.tsx';
import { useAction } from '../hooks.ts';
import { IconPlus } from '../icons.tsx';

export interface OrganisationsCardProps {
  organisations: Organisation[];
  operators: Operator[];
  onCreated(organisation: Organisation): void;
}

/** Organisations with their number of operators, and a form for a new one (administrators). */
export function OrganisationsCard({ organisations, operators, onCreated }: OrganisationsCardProps) {
  const [name, setName] = useState('');
  const { busy, error, setError, run } = useAction();

  const submit = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    if (!name.trim()) {
      setError('Give the organisation a name.');
      return;
    }
    await run(async () => {
      onCreated(await createOrganisation(name.trim()));
      setName('');
    }, 'The organisation could not be created.');
  };

  return (
    <section class="card" aria-labelledby="organisations-title">
      <h2 id="organisations-title" class="section-title">
        Organisations
      </h2>
      <p class="section-lead">Operators see and join the sessions of their own organisation.</p>
      <ul class="simple-list" data-testid="organisations">
        {organisations.map((organisation) => {
          const count = operators.filter((operator) => operator.organisationId === organisation.id).length;
          return (
            <li key={organisation.id} class="simple-list__item">
              <span>{organisation.name}</span>
              <span class="simple-list__meta">
                {count} operator{count === 1 ? '' : 's'}
              </span>
            </li>
          );
        })}
      </ul>
      <form class="inline-form" onSubmit={submit} noValidate>
        <input
          class="input"
          name="name"
          aria-label="Name of the new organisation"
          placeholder="New organisation"
          data-testid="new-organisation-name"
          maxLength={200}
          value={name}
          onInput={(event) => setName(event.currentTarget.value)}
        />
        <button type="submit" class="btn btn--secondary" data-testid="create-organisation" disabled={busy}>
          <IconPlus size={15} /> Create
        </button>
      </form>
      {error && <ErrorBanner message={error} />}
    </section>
  );
}

import type { TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { createGroup } from '../../api/groups.ts';
import type { DeviceGroup, Organisation } from '../../api/types.ts';
import { isNamedDefault, organisationName } from '../../format/labels.ts';
import { BusyButton } from '../common/fields.tsx';
import { ErrorBanner } from '../error-banner.tsx';
import { useAction } from '../hooks.ts';
import { IconPlus } from '../icons.tsx';

export interface GroupListProps {
  groups: DeviceGroup[];
  organisations: Organisation[];
  selectedId: string | null;
  canWrite: boolean;
  /** Administrators create groups in any organisation. */
  canChooseOrganisation: boolean;
  defaultOrganisationId: string;
  onSelect(id: string): void;
  onCreated(group: DeviceGroup): void;
}

/** The device groups to choose from, and a form for a new one. */
export function GroupList(props: GroupListProps) {
  const { groups, organisations } = props;
  const several = organisations.length > 1;
  const sorted = [...groups].sort(
    (a, b) =>
      organisationName(a.organisationId, organisations).localeCompare(
        organisationName(b.organisationId, organisations),
      ) ||
      Number(b.isDefault) - Number(a.isDefault) ||
      a.name.localeCompare(b.name),
  );
  return (
    <section class="card list-card" aria-labelledby="groups-title">
      <header class="list-card__header">
        <h2 id="groups-title" class="card__title">
          Device groups
        </h2>
        <span class="count-pill">{groups.length}</span>
      </header>
      <ul class="pick-list" data-testid="groups">
        {sorted.map((group) => (
          <li key={group.id}>
            <button
              type="button"
              class={`pick-list__item${group.id === props.selectedId ? ' pick-list__item--current' : ''}`}
              aria-current={group.id === props.selectedId ? 'true' : undefined}
              data-testid="group-row"
              data-name={group.name}
              onClick={() => props.onSelect(group.id)}
            >
              <span class="pick-list__name">{group.name}</span>
              <span class="pick-list__meta">
                {several && <span>{organisationName(group.organisationId, organisations)}</span>}
                {group.isDefault && !isNamedDefault(group) && <span class="tag">Default</span>}
                {group.hasRegistrationKey && <span class="tag tag--key">Key</span>}
              </span>
            </button>
          </li>
        ))}
      </ul>
      {props.canWrite && <CreateGroupForm {...props} />}
    </section>
  );
}

function CreateGroupForm({
  organisations,
  canChooseOrganisation,
  defaultOrganisationId,
  onCreated,
}: GroupListProps) {
  const [name, setName] = useState('');
  const [organisationId, setOrganisationId] = useState(defaultOrganisationId);
  const { busy, error, setError, run } = useAction();

  const submit = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    if (!name.trim()) {
      setError('Give the group a name.');
      return;
    }
    await run(async () => {
      const group = await createGroup(
        name.trim(),
        canChooseOrganisation && organisationId !== defaultOrganisationId ? organisationId : undefined,
      );
      setName('');
      onCreated(group);
    }, 'The group could not be created.');
  };

  return (
    <form class="list-card__form" onSubmit={submit} noValidate>
      <div class="list-card__form-title">New group</div>
      <input
        class="input"
        name="name"
        placeholder="For example: Front desk PCs"
        aria-label="Name of the new group"
        data-testid="new-group-name"
        maxLength={200}
        value={name}
        onInput={(event) => setName(event.currentTarget.value)}
      />
      {canChooseOrganisation && organisations.length > 1 && (
        <select
          class="input select"
          aria-label="Organisation of the new group"
          data-testid="new-group-organisation"
          value={organisationId}
          onChange={(event) => setOrganisationId(event.currentTarget.value)}
        >
          {organisations.map((organisation) => (
            <option key={organisation.id} value={organisation.id}>
              {organisation.name}
            </option>
          ))}
        </select>
      )}
      <BusyButton
        type="submit"
        class="btn--secondary"
        busy={busy}
        busyLabel="Creating…"
        icon={<IconPlus size={15} />}
        testId="create-group"
      >
        Create group
      </BusyButton>
      <p class="field__hint">A new group starts from the default policy.</p>
      {error && <ErrorBanner message={error} />}
    </form>
  );
}

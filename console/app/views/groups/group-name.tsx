import type { TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { renameGroup } from '../../api/groups.ts';
import type { DeviceGroup } from '../../api/types.ts';
import { isNamedDefault } from '../../format/labels.ts';
import { ErrorBanner } from '../error-banner.tsx';
import { useAction } from '../hooks.ts';

export interface GroupNameProps {
  group: DeviceGroup;
  canWrite: boolean;
  onRenamed(group: DeviceGroup): void;
}

/** The group's name as a heading, with Rename turning it into a field. */
export function GroupName({ group, canWrite, onRenamed }: GroupNameProps) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(group.name);
  const { busy, error, setError, run } = useAction();

  const save = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) {
      setError('A group needs a name.');
      return;
    }
    if (trimmed === group.name) {
      setEditing(false);
      return;
    }
    await run(async () => {
      onRenamed(await renameGroup(group.id, trimmed));
      setEditing(false);
    }, 'The group could not be renamed.');
  };

  if (!editing) {
    return (
      <div class="detail__title-row">
        <h2 class="detail__title" data-testid="group-title">
          {group.name}
        </h2>
        {group.isDefault && !isNamedDefault(group) && <span class="tag">Default</span>}
        {canWrite && (
          <button
            type="button"
            class="btn btn--ghost btn--small"
            data-testid="rename-group"
            onClick={() => {
              setName(group.name);
              setEditing(true);
            }}
          >
            Rename
          </button>
        )}
      </div>
    );
  }
  return (
    <form class="inline-form" onSubmit={save} noValidate>
      <input
        class="input"
        name="name"
        aria-label="Group name"
        data-testid="group-name-input"
        maxLength={200}
        value={name}
        ref={(element) => element?.focus()}
        onInput={(event) => setName(event.currentTarget.value)}
      />
      <button type="submit" class="btn btn--primary" data-testid="save-group-name" disabled={busy}>
        {busy ? 'Saving…' : 'Save'}
      </button>
      <button type="button" class="btn btn--secondary" onClick={() => setEditing(false)} disabled={busy}>
        Cancel
      </button>
      {error && <ErrorBanner message={error} />}
    </form>
  );
}

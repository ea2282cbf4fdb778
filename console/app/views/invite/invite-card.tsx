import type { TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { listGroups } from '../../api/groups.ts';
import { listOrganisations } from '../../api/operators.ts';
import type { DeviceGroup, Identity, Organisation } from '../../api/types.ts';
import { groupLabel } from '../../format/labels.ts';
import type { InviteController } from '../../session/invite-controller.ts';
import { Notice } from '../common/notice.tsx';
import { ErrorBanner } from '../error-banner.tsx';
import { useAction, useResource } from '../hooks.ts';
import { IconPlus } from '../icons.tsx';
import { InvitePanel } from './invite-panel.tsx';

export interface InviteCardProps {
  identity: Identity;
  invite: InviteController | null;
  notice: string | null;
  onStart(deviceGroupId: string | undefined): Promise<void>;
  onDismiss(): void;
}

/** The group new sessions go to unless the operator picks another: their organisation's default. */
function defaultGroup(groups: DeviceGroup[], organisationId: string): DeviceGroup | undefined {
  return (
    groups.find((group) => group.isDefault && group.organisationId === organisationId) ??
    groups.find((group) => group.isDefault)
  );
}

function groupNameOf(id: string | null | undefined, groups: DeviceGroup[]): string | undefined {
  return groups.find((group) => group.id === id)?.name;
}

/**
 * Operator first: create a session and send the user a download link that carries it. While the
 * session waits for the user, the card shows its code and countdown ({@link InvitePanel}).
 */
export function InviteCard({ identity, invite, notice, onStart, onDismiss }: InviteCardProps) {
  const groups = useResource(async (): Promise<{ groups: DeviceGroup[]; organisations: Organisation[] }> => {
    const [groups, organisations] = await Promise.all([listGroups(), listOrganisations()]);
    return { groups, organisations };
  });
  const [choice, setChoice] = useState<string | null>(null);
  const { busy, error, run } = useAction();

  if (invite) {
    return (
      <section class="card invite-card invite-card--open" aria-labelledby="invite-title">
        <InvitePanel
          controller={invite}
          groupName={groupNameOf(invite.state.session.deviceGroupId, groups.data?.groups ?? [])}
          onDismiss={onDismiss}
        />
      </section>
    );
  }

  const list = groups.data?.groups ?? [];
  const organisations = groups.data?.organisations ?? [];
  const selected = choice ?? defaultGroup(list, identity.operator.organisationId)?.id ?? '';

  const start = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    await run(() => onStart(selected || undefined), 'The session could not be created.');
  };

  return (
    <section class="card invite-card" aria-labelledby="invite-title">
      <h2 id="invite-title" class="card__title">
        Invite a user
      </h2>
      <p class="card__lead">
        Create a session and send the user a download link. Lifeline starts connected to you — there is
        nothing to type.
      </p>
      <form class="invite-form" onSubmit={start} noValidate>
        <label class="field">
          <span class="field__label">Device group</span>
          <select
            class="input select"
            name="deviceGroupId"
            data-testid="new-session-group"
            value={selected}
            disabled={busy}
            onChange={(event) => setChoice(event.currentTarget.value)}
          >
            {list.length === 0 && <option value="">Default group</option>}
            {list.map((group) => (
              <option key={group.id} value={group.id}>
                {groupLabel(group, organisations)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="btn btn--primary" data-testid="new-session" disabled={busy}>
          <IconPlus size={16} /> {busy ? 'Creating…' : 'New session'}
        </button>
      </form>
      {groups.error && (
        <p class="field__hint">Device groups could not be loaded; the default group is used.</p>
      )}
      {error && <ErrorBanner message={error} />}
      {notice && <Notice testId="invite-notice">{notice}</Notice>}
    </section>
  );
}

import { setGroupPolicy } from '../../api/groups.ts';
import type { DeviceGroup, Organisation } from '../../api/types.ts';
import { organisationName } from '../../format/labels.ts';
import { formatDate } from '../../format/time.ts';
import { GroupName } from './group-name.tsx';
import { PolicyForm } from './policy-form.tsx';
import { RegistrationKeyCard } from './registration-key-card.tsx';

export interface GroupDetailProps {
  group: DeviceGroup;
  organisations: Organisation[];
  canWrite: boolean;
  onChanged(group: DeviceGroup): void;
}

/** One device group: its name, its policy and its registration key. */
export function GroupDetail({ group, organisations, canWrite, onChanged }: GroupDetailProps) {
  return (
    <div class="detail" data-testid="group-detail" data-group-id={group.id}>
      <section class="card detail__head">
        <GroupName group={group} canWrite={canWrite} onRenamed={onChanged} />
        <p class="detail__meta">
          {organisationName(group.organisationId, organisations)} · created {formatDate(group.createdAt)}
          {group.isDefault && ' · the default group: new sessions and agents without a key land here'}
        </p>
      </section>
      <PolicyForm
        policy={group.policy}
        readOnly={!canWrite}
        onSave={async (policy) => {
          const updated = await setGroupPolicy(group.id, policy);
          onChanged(updated);
          return updated.policy;
        }}
      />
      <RegistrationKeyCard group={group} canWrite={canWrite} onIssued={onChanged} />
    </div>
  );
}

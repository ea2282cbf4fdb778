import { useState } from 'preact/hooks';
import { listGroups } from '../../api/groups.ts';
import { listOrganisations } from '../../api/operators.ts';
import { can } from '../../api/scopes.ts';
import type { DeviceGroup, Identity, Organisation } from '../../api/types.ts';
import { LoadStatus, upsertById } from '../common/load-status.tsx';
import { PageHeader } from '../common/page-header.tsx';
import { useResource } from '../hooks.ts';
import { GroupDetail } from './group-detail.tsx';
import { GroupList } from './group-list.tsx';

export interface GroupsPageProps {
  identity: Identity;
}

/**
 * Device groups and their policies: the list on the left, the chosen group's policy and
 * registration key on the right. Read-only without `groups:write`.
 */
export function GroupsPage({ identity }: GroupsPageProps) {
  const canWrite = can(identity.scopes, 'groups:write');
  const resource = useResource(
    async (): Promise<{ groups: DeviceGroup[]; organisations: Organisation[] }> => {
      const [groups, organisations] = await Promise.all([listGroups(), listOrganisations()]);
      return { groups, organisations };
    },
  );
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const groups = resource.data?.groups ?? [];
  const organisations = resource.data?.organisations ?? [];
  const selected =
    groups.find((group) => group.id === selectedId) ??
    groups.find((group) => group.isDefault && group.organisationId === identity.operator.organisationId) ??
    groups[0];

  /** Puts a created or changed group into the list without reloading it. */
  const upsert = (group: DeviceGroup) =>
    resource.setData((data) => data && { ...data, groups: upsertById(data.groups, group) });

  return (
    <main class="page">
      <PageHeader
        title="Groups & policies"
        lead={
          <>
            A device group decides what sessions with its devices may do. Agents join a group through the
            download link of a session or through the group's registration key.
            {!canWrite && ' Your role can read policies but not change them.'}
          </>
        }
      />
      <LoadStatus
        error={resource.error}
        loaded={resource.data !== null}
        onRetry={() => void resource.reload()}
      />
      {resource.data && (
        <div class="split">
          <GroupList
            groups={groups}
            organisations={organisations}
            selectedId={selected?.id ?? null}
            canWrite={canWrite}
            canChooseOrganisation={can(identity.scopes, 'admin')}
            defaultOrganisationId={identity.operator.organisationId}
            onSelect={setSelectedId}
            onCreated={(group) => {
              upsert(group);
              setSelectedId(group.id);
            }}
          />
          {selected && (
            <GroupDetail
              key={selected.id}
              group={selected}
              organisations={organisations}
              canWrite={canWrite}
              onChanged={upsert}
            />
          )}
        </div>
      )}
    </main>
  );
}

import { useState } from 'preact/hooks';
import { listOperators, listOrganisations } from '../../api/operators.ts';
import { can } from '../../api/scopes.ts';
import type { Identity, Operator, Organisation } from '../../api/types.ts';
import { LoadStatus, upsertById } from '../common/load-status.tsx';
import { Notice } from '../common/notice.tsx';
import { PageHeader } from '../common/page-header.tsx';
import { useResource } from '../hooks.ts';
import { CreateOperatorForm } from './create-operator-form.tsx';
import { OperatorsTable } from './operators-table.tsx';
import { OrganisationsCard } from './organisations-card.tsx';

export interface OperatorsPageProps {
  identity: Identity;
}

/**
 * Operator accounts. Administrators create them, change roles, reset passwords and disable them;
 * managers see their organisation's operators.
 */
export function OperatorsPage({ identity }: OperatorsPageProps) {
  const isAdmin = can(identity.scopes, 'admin');
  const resource = useResource(
    async (): Promise<{ operators: Operator[]; organisations: Organisation[] }> => {
      const [operators, organisations] = await Promise.all([listOperators(), listOrganisations()]);
      return { operators, organisations };
    },
  );
  const [notice, setNotice] = useState<string | null>(null);
  const operators = resource.data?.operators ?? [];
  const organisations = resource.data?.organisations ?? [];

  const upsert = (operator: Operator) =>
    resource.setData((data) => data && { ...data, operators: upsertById(data.operators, operator) });

  return (
    <main class="page">
      <PageHeader
        title="Operators"
        lead={
          isAdmin
            ? 'Help-desk staff and their roles. Changing a role, a password or disabling an account signs the operator out everywhere at once.'
            : 'The operators of your organisation. Only administrators change accounts.'
        }
      />
      <LoadStatus
        error={resource.error}
        loaded={resource.data !== null}
        onRetry={() => void resource.reload()}
      />
      {notice && <Notice testId="operators-notice">{notice}</Notice>}
      {resource.data && (
        <div class="stack">
          <OperatorsTable
            operators={operators}
            organisations={organisations}
            selfId={identity.operator.id}
            canManage={isAdmin}
            onChanged={(operator, message) => {
              upsert(operator);
              setNotice(message);
            }}
          />
          {isAdmin && (
            <div class="columns">
              <CreateOperatorForm
                organisations={organisations}
                defaultOrganisationId={identity.operator.organisationId}
                onCreated={(operator) => {
                  upsert(operator);
                  setNotice(`${operator.name} can now sign in as ${operator.username}.`);
                }}
              />
              <OrganisationsCard
                organisations={organisations}
                operators={operators}
                onCreated={(organisation) => {
                  resource.setData((data) =>
                    data ? { ...data, organisations: [...data.organisations, organisation] } : data,
                  );
                  setNotice(`Organisation ${organisation.name} created, with its default device group.`);
                }}
              />
            </div>
          )}
        </div>
      )}
    </main>
  );
}

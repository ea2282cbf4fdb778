import type { Identity } from '../../api/types.ts';
import { roleHint, roleLabel } from '../../format/roles.ts';
import { formatDate } from '../../format/time.ts';
import { PageHeader } from '../common/page-header.tsx';
import { ScopeList } from '../common/table-card.tsx';
import { SecondFactorCard } from './second-factor-card.tsx';

export interface AccountPageProps {
  identity: Identity;
  onIdentity(identity: Identity): void;
}

/** The signed-in operator's own account: who they are, what their role allows, the second factor. */
export function AccountPage({ identity, onIdentity }: AccountPageProps) {
  const { operator } = identity;
  return (
    <main class="page page--narrow">
      <PageHeader title="Account" lead="Your sign-in and what your role lets you do." />
      <section class="card" aria-labelledby="profile-title">
        <h2 id="profile-title" class="section-title">
          {operator.name}
        </h2>
        <dl class="facts">
          <div class="facts__item">
            <dt>Username</dt>
            <dd data-testid="account-username">{operator.username}</dd>
          </div>
          <div class="facts__item">
            <dt>Role</dt>
            <dd>
              {roleLabel(operator.role)}
              <span class="facts__hint">{roleHint(operator.role)}</span>
            </dd>
          </div>
          <div class="facts__item">
            <dt>Since</dt>
            <dd>{formatDate(operator.createdAt)}</dd>
          </div>
          <div class="facts__item">
            <dt>Permissions</dt>
            <dd>
              <ScopeList scopes={identity.scopes} />
            </dd>
          </div>
        </dl>
      </section>
      <SecondFactorCard
        operator={operator}
        onEnabled={(updated) => onIdentity({ ...identity, operator: updated })}
      />
    </main>
  );
}

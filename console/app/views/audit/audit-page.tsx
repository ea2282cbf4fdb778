import { useEffect, useState } from 'preact/hooks';
import { type AuditFilter, listAuditEvents } from '../../api/audit.ts';
import { listGroups } from '../../api/groups.ts';
import { listOperators, listOrganisations } from '../../api/operators.ts';
import { can } from '../../api/scopes.ts';
import type { AuditEvent, Identity } from '../../api/types.ts';
import { TextField } from '../common/fields.tsx';
import { FilterBar } from '../common/filter-bar.tsx';
import { LoadMore } from '../common/load-more.tsx';
import { LoadStatus } from '../common/load-status.tsx';
import { PageHeader } from '../common/page-header.tsx';
import { usePagedList } from '../common/use-paged-list.ts';
import { AuditTable } from './audit-table.tsx';
import { type Directory, EMPTY_DIRECTORY } from './directory.ts';
import { KNOWN_ACTIONS } from './known-actions.ts';

export interface AuditPageProps {
  identity: Identity;
  initialSessionId: string;
  initialAction: string;
}

/**
 * The audit log, newest first, a page at a time (`Load more`), filtered by session or action.
 * Changes with a before and after (policies, operators) show what changed.
 */
export function AuditPage({ identity, initialSessionId, initialAction }: AuditPageProps) {
  const [draft, setDraft] = useState({ sessionId: initialSessionId, action: initialAction });
  const {
    filter,
    changeFilter,
    items: events,
    nextCursor,
    loading,
    error,
    load,
  } = usePagedList<AuditEvent, AuditFilter>({
    initialFilter: { sessionId: initialSessionId || undefined, action: initialAction || undefined },
    fetchPage: (filter, cursor) => listAuditEvents(filter, cursor),
    failure: 'The audit log could not be loaded.',
  });
  const [directory, setDirectory] = useState<Directory>(EMPTY_DIRECTORY);

  useEffect(() => {
    // Names instead of ids where this operator may read them; ids otherwise.
    const none = () => [];
    void Promise.all([
      can(identity.scopes, 'operators:read') ? listOperators().catch(none) : Promise.resolve([]),
      listGroups().catch(none),
      listOrganisations().catch(none),
    ]).then(([operators, groups, organisations]) => setDirectory({ operators, groups, organisations }));
  }, [identity]);

  const apply = () => {
    changeFilter({
      sessionId: draft.sessionId.trim() || undefined,
      action: draft.action.trim() || undefined,
    });
  };
  const clear = () => {
    setDraft({ sessionId: '', action: '' });
    changeFilter({});
  };
  const filtered = Boolean(filter.sessionId || filter.action);

  return (
    <main class="page page--wide">
      <PageHeader
        title="Audit log"
        lead="Every privileged action: sign-ins, sessions, consent, policy and account changes, API token use."
        actions={
          // The hash-chained trail with its signed head, for `npm run audit:verify` (README, "Audit trail").
          (identity.operator.role === 'admin' || identity.operator.role === 'auditor') && (
            <a
              class="btn btn--secondary"
              href="/api/audit-events/export"
              download="audit-trail.jsonl"
              data-testid="audit-export"
              title="Every event, hash-chained, with the server's signed head: check it with npm run audit:verify"
            >
              Export for verification
            </a>
          )
        }
      />
      <FilterBar
        testId="audit-filter"
        applyTestId="audit-apply"
        filtered={filtered}
        onApply={apply}
        onClear={clear}
      >
        <TextField
          label="Session id"
          name="sessionId"
          placeholder="Any session"
          spellcheck={false}
          mono
          testId="audit-session-filter"
          value={draft.sessionId}
          onValue={(sessionId) => setDraft({ ...draft, sessionId })}
        />
        <TextField
          label="Action"
          name="action"
          placeholder="Any action"
          list="audit-actions"
          spellcheck={false}
          mono
          testId="audit-action-filter"
          value={draft.action}
          onValue={(action) => setDraft({ ...draft, action })}
        >
          <datalist id="audit-actions">
            {KNOWN_ACTIONS.map((action) => (
              <option key={action} value={action} />
            ))}
          </datalist>
        </TextField>
      </FilterBar>
      <LoadStatus error={error} loaded={events !== null} onRetry={() => void load(null)} />
      {events && (
        <AuditTable
          events={events}
          directory={directory}
          empty={filtered ? 'No events match this filter.' : 'No events yet.'}
          onSession={(sessionId) => {
            setDraft({ sessionId, action: '' });
            changeFilter({ sessionId });
          }}
        />
      )}
      {nextCursor && events && (
        <LoadMore loading={loading} onLoad={() => void load(nextCursor)} testId="audit-more" />
      )}
    </main>
  );
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { type AuditFilter, listAuditEvents } from '../../api/audit.ts';
import { errorText } from '../../api/client.ts';
import { listGroups } from '../../api/groups.ts';
import { listOperators, listOrganisations } from '../../api/operators.ts';
import { can } from '../../api/scopes.ts';
import type { AuditEvent, Identity } from '../../api/types.ts';
import { FilterBar } from '../common/filter-bar.tsx';
import { LoadMore } from '../common/load-more.tsx';
import { PageHeader } from '../common/page-header.tsx';
import { ErrorBanner } from '../error-banner.tsx';
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
  const [filter, setFilter] = useState<AuditFilter>({
    sessionId: initialSessionId || undefined,
    action: initialAction || undefined,
  });
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [directory, setDirectory] = useState<Directory>(EMPTY_DIRECTORY);
  const generation = useRef(0);

  useEffect(() => {
    // Names instead of ids where this operator may read them; ids otherwise.
    const none = () => [];
    void Promise.all([
      can(identity.scopes, 'operators:read') ? listOperators().catch(none) : Promise.resolve([]),
      listGroups().catch(none),
      listOrganisations().catch(none),
    ]).then(([operators, groups, organisations]) => setDirectory({ operators, groups, organisations }));
  }, [identity]);

  const load = async (cursor: string | null) => {
    const mine = cursor ? generation.current : ++generation.current;
    setLoading(true);
    setError(null);
    try {
      const page = await listAuditEvents(filter, cursor);
      if (mine !== generation.current) return;
      setEvents((before) => (cursor ? [...(before ?? []), ...page.items] : page.items));
      setNextCursor(page.nextCursor);
    } catch (caught) {
      if (mine === generation.current) setError(errorText(caught, 'The audit log could not be loaded.'));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };

  // A new filter starts again from the first page.
  useEffect(() => {
    void load(null);
  }, [filter]);

  // Cleared in the same render as the filter changes, so old events never show under the new filter.
  const changeFilter = (next: AuditFilter) => {
    setFilter(next);
    setEvents(null);
    setNextCursor(null);
  };

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
        <label class="field">
          <span class="field__label">Session id</span>
          <input
            class="input input--mono"
            name="sessionId"
            placeholder="Any session"
            spellcheck={false}
            data-testid="audit-session-filter"
            value={draft.sessionId}
            onInput={(event) => setDraft({ ...draft, sessionId: event.currentTarget.value })}
          />
        </label>
        <label class="field">
          <span class="field__label">Action</span>
          <input
            class="input input--mono"
            name="action"
            placeholder="Any action"
            list="audit-actions"
            spellcheck={false}
            data-testid="audit-action-filter"
            value={draft.action}
            onInput={(event) => setDraft({ ...draft, action: event.currentTarget.value })}
          />
          <datalist id="audit-actions">
            {KNOWN_ACTIONS.map((action) => (
              <option key={action} value={action} />
            ))}
          </datalist>
        </label>
      </FilterBar>
      {error && <ErrorBanner message={error} onRetry={() => void load(null)} />}
      {events === null && !error && <p class="empty">Loading…</p>}
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

import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from '../api/client.ts';
import { listSessions } from '../api/sessions.ts';
import type { SessionStatus, SessionView } from '../api/types.ts';
import { LoadMore } from './common/load-more.tsx';
import { ErrorBanner } from './error-banner.tsx';
import { useInterval } from './hooks.ts';
import { IconMonitor } from './icons.tsx';
import { SessionRow } from './session-row.tsx';

/** How often the first page of the list is refreshed, in ms. */
const REFRESH_INTERVAL_MS = 5000;

type Filter = SessionStatus | 'all';

const FILTERS: ReadonlyArray<{ value: Filter; label: string; empty: string }> = [
  { value: 'active', label: 'Active', empty: 'No active sessions.' },
  { value: 'waiting', label: 'Waiting', empty: 'No sessions are waiting.' },
  { value: 'ended', label: 'Ended', empty: 'No ended sessions yet.' },
  { value: 'all', label: 'All', empty: 'No sessions yet.' },
];

export interface SessionsListProps {
  /** The operator may rejoin running sessions. */
  canJoin: boolean;
  /** Who is signed in: a running session someone else runs is joined, one's own rejoined. */
  operatorId: string;
  /** The operator may read the audit log, so each session links to its trail. */
  canAudit: boolean;
  onRejoin(sessionId: string): Promise<void>;
  onOpenAudit(sessionId: string): void;
}

/**
 * Sessions by status, newest first, a page at a time (`Load more`). The first page refreshes every
 * few seconds while no more pages are open, so running sessions come and go by themselves.
 */
export function SessionsList({ canJoin, operatorId, canAudit, onRejoin, onOpenAudit }: SessionsListProps) {
  const [filter, setFilter] = useState<Filter>('active');
  const [sessions, setSessions] = useState<SessionView[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [pages, setPages] = useState(1);
  const [failed, setFailed] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [joining, setJoining] = useState<string | null>(null);
  const [joinError, setJoinError] = useState<string | null>(null);
  // Answers for a filter that is no longer shown are dropped.
  const shown = useRef<Filter>(filter);

  const loadFirst = async (which: Filter) => {
    try {
      const page = await listSessions({ status: which === 'all' ? undefined : which });
      if (shown.current !== which) return;
      setSessions(page.items);
      setNextCursor(page.nextCursor);
      setPages(1);
      setFailed(null);
    } catch (error) {
      if (shown.current === which) setFailed(errorText(error, 'The list could not be loaded.'));
    }
  };

  useEffect(() => {
    shown.current = filter;
    void loadFirst(filter);
  }, [filter]);

  // Cleared in the same render as the filter changes, so the old list never shows under the new filter.
  const choose = (next: Filter) => {
    if (next === filter) return;
    setFilter(next);
    setSessions(null);
    setNextCursor(null);
    setFailed(null);
  };
  useInterval(() => void loadFirst(filter), pages === 1 ? REFRESH_INTERVAL_MS : null);

  const loadMore = async () => {
    if (!nextCursor || loadingMore) return;
    setLoadingMore(true);
    const which = filter;
    try {
      const page = await listSessions({ status: which === 'all' ? undefined : which, cursor: nextCursor });
      if (shown.current !== which) return;
      setSessions((before) => [...(before ?? []), ...page.items]);
      setNextCursor(page.nextCursor);
      setPages((count) => count + 1);
    } catch (error) {
      setFailed(errorText(error, 'The next page could not be loaded.'));
    } finally {
      setLoadingMore(false);
    }
  };

  const rejoin = async (id: string) => {
    setJoining(id);
    setJoinError(null);
    try {
      await onRejoin(id);
    } catch (error) {
      setJoinError(errorText(error));
    } finally {
      setJoining(null);
    }
  };

  const empty = FILTERS.find((item) => item.value === filter)?.empty ?? 'No sessions.';
  return (
    <section class="card sessions-card" aria-labelledby="sessions-title">
      <header class="sessions-card__header">
        <h2 id="sessions-title" class="card__title">
          Sessions
        </h2>
        {filter === 'active' && sessions && sessions.length > 0 && (
          <span class="count-pill">{sessions.length}</span>
        )}
        <fieldset class="tabs" aria-label="Show sessions">
          {FILTERS.map((item) => (
            <button
              key={item.value}
              type="button"
              class={`tabs__item${filter === item.value ? ' tabs__item--active' : ''}`}
              aria-pressed={filter === item.value}
              data-testid={`sessions-filter-${item.value}`}
              onClick={() => choose(item.value)}
            >
              {item.label}
            </button>
          ))}
        </fieldset>
      </header>
      {failed && <p class="sessions-card__failed">{failed} Retrying…</p>}
      {joinError && (
        <div class="sessions-card__error">
          <ErrorBanner message={joinError} onRetry={() => setJoinError(null)} retryLabel="Dismiss" />
        </div>
      )}
      {sessions === null && !failed && <p class="empty">Loading…</p>}
      {sessions?.length === 0 && (
        <div class="empty">
          <IconMonitor size={28} class="empty__icon" />
          <p>{empty}</p>
          <p class="empty__hint">Sessions you and your colleagues run appear here.</p>
        </div>
      )}
      {sessions && sessions.length > 0 && (
        <ul class="session-list" data-testid="active-sessions" data-filter={filter}>
          {sessions.map((session) => (
            <SessionRow
              key={session.id}
              session={session}
              canJoin={canJoin}
              operatorId={operatorId}
              canAudit={canAudit}
              joining={joining}
              onRejoin={(id) => void rejoin(id)}
              onOpenAudit={onOpenAudit}
            />
          ))}
        </ul>
      )}
      {nextCursor && sessions && sessions.length > 0 && (
        <LoadMore loading={loadingMore} onLoad={() => void loadMore()} testId="sessions-more" small />
      )}
    </section>
  );
}

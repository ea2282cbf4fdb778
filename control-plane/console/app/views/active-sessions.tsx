import { useEffect, useState } from 'preact/hooks';
import { listActiveSessions } from '../api/endpoints.ts';
import type { SessionView } from '../api/types.ts';
import { peerLabel, sessionAge } from '../session/describe.ts';
import { useInterval } from './hooks.ts';
import { IconMonitor } from './icons.tsx';

/** How often the list of active sessions is refreshed, in ms. */
const REFRESH_INTERVAL_MS = 5000;

export interface ActiveSessionsProps {
  onRejoin(sessionId: string): Promise<void>;
}

/** Sessions that are running now, with a Rejoin button each; refreshed every few seconds. */
export function ActiveSessions({ onRejoin }: ActiveSessionsProps) {
  const [sessions, setSessions] = useState<SessionView[] | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [joining, setJoining] = useState<string | null>(null);

  const refresh = async () => {
    try {
      setSessions(await listActiveSessions());
      setFailed(null);
    } catch (error) {
      setFailed(error instanceof Error ? error.message : 'The list could not be loaded.');
    }
  };
  useEffect(() => void refresh(), []);
  useInterval(() => void refresh(), REFRESH_INTERVAL_MS);

  const rejoin = async (id: string) => {
    setJoining(id);
    try {
      await onRejoin(id);
    } finally {
      setJoining(null);
    }
  };

  return (
    <section class="card sessions-card" aria-labelledby="sessions-title">
      <header class="sessions-card__header">
        <h2 id="sessions-title" class="card__title">
          Active sessions
        </h2>
        {sessions && sessions.length > 0 && <span class="count-pill">{sessions.length}</span>}
      </header>
      {failed && <p class="sessions-card__failed">{failed} Retrying…</p>}
      {sessions === null && !failed && <p class="empty">Loading…</p>}
      {sessions?.length === 0 && (
        <div class="empty">
          <IconMonitor size={28} class="empty__icon" />
          <p>No active sessions.</p>
          <p class="empty__hint">Sessions you and your colleagues are running appear here.</p>
        </div>
      )}
      {sessions && sessions.length > 0 && (
        <ul class="session-list" data-testid="active-sessions">
          {sessions.map((session) => (
            <li class="session-row" key={session.id}>
              <div class="session-row__icon">
                <IconMonitor size={20} />
              </div>
              <div class="session-row__main">
                <div class="session-row__name">{peerLabel(session.agent)}</div>
                <div class="session-row__meta">
                  {[session.agent?.os, sessionAge(session)].filter(Boolean).join(' · ')}
                </div>
              </div>
              <span class={`status-pill status-pill--${session.status}`}>{session.status}</span>
              <button
                type="button"
                class="btn btn--secondary btn--small"
                data-testid="rejoin"
                disabled={joining !== null}
                onClick={() => void rejoin(session.id)}
              >
                {joining === session.id ? 'Joining…' : 'Rejoin'}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

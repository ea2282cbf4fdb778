import { useState } from 'preact/hooks';
import type { SessionView } from '../api/types.ts';
import { formatDateTime, formatDuration } from '../format/time.ts';
import { endReasonText, peerLabel, sessionAge } from '../session/describe.ts';
import { DeviceText } from './common/device-text.tsx';
import { IconMonitor, IconSend } from './icons.tsx';
import { RecordingPlayerView } from './recording-player-view.tsx';

export interface SessionRowProps {
  session: SessionView;
  canJoin: boolean;
  /** Who is signed in: a running session someone else runs is joined, one's own rejoined. */
  operatorId: string;
  canAudit: boolean;
  /** The session being joined, if any: every Rejoin waits for it. */
  joining: string | null;
  onRejoin(sessionId: string): void;
  onOpenAudit(sessionId: string): void;
}

/**
 * An operator-first session whose agent came with the code and is connected now: nobody has
 * joined it yet, so the device waits for any operator allowed to (`Join`).
 */
function deviceWaiting(session: SessionView): boolean {
  return session.status === 'waiting' && session.initiator === 'operator' && session.agentConnected;
}

/** Who is on the other end (as the device says), or what the session is still waiting for. */
function title(session: SessionView) {
  if (session.agent) return <DeviceText text={peerLabel(session.agent)} />;
  return session.initiator === 'operator' ? 'Invitation' : 'Unknown device';
}

/** The grey line under the name: what happened, when, and for how long. */
function details(session: SessionView): string {
  const parts: string[] = [];
  if (session.status === 'ended') {
    parts.push(`ended ${formatDateTime(session.endedAt)}`);
    const from = Date.parse(session.activatedAt ?? '');
    const to = Date.parse(session.endedAt ?? '');
    if (!Number.isNaN(from) && !Number.isNaN(to)) parts.push(`lasted ${formatDuration(to - from)}`);
  } else if (deviceWaiting(session)) {
    parts.push(`created ${sessionAge(session)}, the device is here, waiting for you`);
  } else if (session.status === 'waiting' && session.initiator === 'operator') {
    parts.push(`created ${sessionAge(session)}, waiting for the user's device`);
  } else {
    parts.push(sessionAge(session));
  }
  return parts.filter(Boolean).join(' · ');
}

/**
 * One session in the dashboard's list, with Rejoin for one's own running ones, Join for a colleague's
 * and for a device waiting for an operator, and a link to its audit trail.
 */
export function SessionRow({
  session,
  canJoin,
  operatorId,
  canAudit,
  joining,
  onRejoin,
  onOpenAudit,
}: SessionRowProps) {
  const invitation = session.initiator === 'operator' && !session.agent;
  const waitingForYou = deviceWaiting(session);
  // Join a device nobody has met yet or a colleague's running session (README "Several operators");
  // rejoin one's own.
  const running = session.status === 'active';
  const joinLabel =
    waitingForYou || (running && session.operatorId !== operatorId) ? 'Join' : running ? 'Rejoin' : null;
  const [watching, setWatching] = useState(false);
  // Sessions whose policy made recording mandatory and that got as far as consent have one.
  const recorded = session.policy?.recordingMandatory === true && session.activatedAt !== null;
  return (
    <li class={`session-row session-row--${session.status}`} data-testid="session-row" data-id={session.id}>
      <div class="session-row__icon">{invitation ? <IconSend size={18} /> : <IconMonitor size={20} />}</div>
      <div class="session-row__main">
        <div class="session-row__name">
          {title(session)}
          <span class="session-row__id" title={session.id}>
            {session.id.slice(0, 8)}
          </span>
        </div>
        <div class="session-row__meta">
          {session.agent?.os && (
            <>
              <DeviceText text={session.agent.os} mark={false} />
              {' · '}
            </>
          )}
          {details(session)}
        </div>
        {session.status === 'ended' && (
          <div class="session-row__reason" data-testid="session-end-reason">
            {endReasonText(session.endReason)}
          </div>
        )}
      </div>
      <span class={`status-pill status-pill--${session.status}`}>
        {waitingForYou ? 'device here' : session.status}
      </span>
      <div class="session-row__actions">
        {recorded && (
          <button
            type="button"
            class="btn btn--ghost btn--small"
            data-testid="session-recording"
            title="Watch this session's recording"
            onClick={() => setWatching(true)}
          >
            Recording
          </button>
        )}
        {canAudit && (
          <button
            type="button"
            class="btn btn--ghost btn--small"
            data-testid="session-audit"
            title="This session's audit trail"
            onClick={() => onOpenAudit(session.id)}
          >
            Audit
          </button>
        )}
        {canJoin && joinLabel && (
          <button
            type="button"
            class={`btn ${waitingForYou ? 'btn--primary' : 'btn--secondary'} btn--small`}
            data-testid={joinLabel.toLowerCase()}
            disabled={joining !== null}
            onClick={() => onRejoin(session.id)}
          >
            {joining === session.id ? 'Joining…' : joinLabel}
          </button>
        )}
      </div>
      {watching && <RecordingPlayerView sessionId={session.id} onClose={() => setWatching(false)} />}
    </li>
  );
}

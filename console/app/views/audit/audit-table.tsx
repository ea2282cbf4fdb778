import type { AuditEvent, Operator } from '../../api/types.ts';
import { formatDateTime } from '../../format/time.ts';
import { TableCard } from '../common/table-card.tsx';
import { AuditDetails } from './audit-details.tsx';
import type { Directory } from './directory.ts';

export interface AuditTableProps {
  events: AuditEvent[];
  directory: Directory;
  empty: string;
  /** Shows only the events of this session. */
  onSession(sessionId: string): void;
}

const HEADS = ['Time', 'Actor', 'Action', 'Session', 'Address', 'Details'];

/** Who acted: an operator's username when known, else the kind of actor and a short id. */
function actorText(event: AuditEvent, operators: Operator[]): string {
  if (!event.actorId) return event.actorType;
  // API token actors are `<operator id>/<token id>`.
  const [operatorId = '', tokenId] = event.actorId.split('/');
  const operator = operators.find((item) => item.id === operatorId);
  if (event.actorType === 'api-token') {
    return `${operator?.username ?? operatorId.slice(0, 8)} · token ${tokenId?.slice(0, 8) ?? ''}`;
  }
  if (event.actorType === 'operator') return operator?.username ?? operatorId.slice(0, 8);
  return `${event.actorType} ${event.actorId.slice(0, 8)}`;
}

/** Audit events as a table; a session id filters the log to that session. */
export function AuditTable({ events, directory, empty, onSession }: AuditTableProps) {
  if (events.length === 0) {
    return (
      <section class="card">
        <p class="empty">{empty}</p>
      </section>
    );
  }
  return (
    <TableCard testId="audit-events" heads={HEADS} top>
      {events.map((event) => (
        <tr key={event.id} data-testid="audit-row" data-action={event.action} data-event-id={event.id}>
          <td class="cell-nowrap">{formatDateTime(event.at)}</td>
          <td class="cell-nowrap">{actorText(event, directory.operators)}</td>
          <td>
            <code class="action-code">{event.action}</code>
          </td>
          <td>
            {event.sessionId ? (
              <button
                type="button"
                class="link-button cell-mono"
                title={`Only session ${event.sessionId}`}
                onClick={() => onSession(event.sessionId!)}
              >
                {event.sessionId.slice(0, 8)}
              </button>
            ) : (
              '—'
            )}
          </td>
          <td class="cell-mono">{event.address ?? '—'}</td>
          <td>
            <AuditDetails details={event.details} directory={directory} />
          </td>
        </tr>
      ))}
    </TableCard>
  );
}

import { apiRequest } from './client.ts';
import { ROUTES } from './routes.ts';
import type { AuditEvent, Page } from './types.ts';

export interface AuditFilter {
  sessionId?: string | undefined;
  action?: string | undefined;
}

/** One page of audit events, newest first; pass the previous `nextCursor` for the next. */
export function listAuditEvents(
  filter: AuditFilter,
  cursor?: string | null,
  limit = 50,
): Promise<Page<AuditEvent>> {
  return apiRequest(ROUTES.listAuditEvents, {
    query: { sessionId: filter.sessionId, action: filter.action, limit, cursor: cursor ?? undefined },
  });
}

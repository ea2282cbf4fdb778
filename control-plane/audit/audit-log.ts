import type { Database } from '../db/client.ts';
import { auditEvents } from '../db/schema.ts';
import type { Logger } from '../logger.ts';

export type ActorType = (typeof auditEvents.$inferInsert)['actorType'];

export interface AuditEntry {
  actorType: ActorType;
  actorId?: string | null | undefined;
  action: string;
  sessionId?: string | null | undefined;
  address?: string | null | undefined;
  details?: Record<string, unknown> | undefined;
}

export interface AuditLog {
  /** Records a privileged action. Never pass a token, password or code in `details`. */
  record(entry: AuditEntry): Promise<void>;
}

/** Writes audit events to the database and mirrors them to the structured log. */
export function createAuditLog(db: Database, logger: Logger): AuditLog {
  return {
    async record(entry) {
      const row = {
        at: new Date(),
        actorType: entry.actorType,
        actorId: entry.actorId ?? null,
        action: entry.action,
        sessionId: entry.sessionId ?? null,
        address: entry.address ?? null,
        details: entry.details ?? null,
      };
      await db.insert(auditEvents).values(row);
      logger.info(
        {
          audit: entry.action,
          actor: `${entry.actorType}:${entry.actorId ?? '-'}`,
          sessionId: entry.sessionId,
          address: entry.address,
          details: entry.details,
        },
        'audit',
      );
    },
  };
}

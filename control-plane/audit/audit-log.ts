import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { auditEvents, operators, sessions } from '../db/schema.ts';
import type { Logger } from '../logger.ts';

export type ActorType = (typeof auditEvents.$inferInsert)['actorType'];

export interface AuditEntry {
  actorType: ActorType;
  actorId?: string | null | undefined;
  action: string;
  sessionId?: string | null | undefined;
  /**
   * The organisation the event concerns. When absent it is the session's, or else the acting
   * operator's; pass it when an administrator acts on another organisation's records.
   */
  organisationId?: string | null | undefined;
  address?: string | null | undefined;
  details?: Record<string, unknown> | undefined;
}

export interface AuditLog {
  /**
   * Records a privileged action. Never pass a token, password or code in `details`. Never rejects:
   * a write that fails (the database is down or full) is logged with the entry's action, and the
   * server goes on.
   */
  record(entry: AuditEntry): Promise<void>;
  /** Audit writes that failed since start-up. */
  readonly failures: number;
}

/** Writes audit events to the database and mirrors them to the structured log. */
export function createAuditLog(db: Database, logger: Logger): AuditLog {
  const organisationOf = async (entry: AuditEntry): Promise<string | null> => {
    if (entry.organisationId !== undefined) return entry.organisationId;
    if (entry.sessionId) {
      const [row] = await db
        .select({ org: sessions.organisationId })
        .from(sessions)
        .where(eq(sessions.id, entry.sessionId));
      if (row) return row.org;
    }
    const operatorId =
      entry.actorType === 'operator'
        ? entry.actorId
        : entry.actorType === 'api-token'
          ? entry.actorId?.split('/')[0]
          : undefined;
    if (!operatorId) return null;
    const [row] = await db
      .select({ org: operators.organisationId })
      .from(operators)
      .where(eq(operators.id, operatorId));
    return row?.org ?? null;
  };

  const write = async (entry: AuditEntry) => {
    const row = {
      organisationId: await organisationOf(entry),
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
  };

  let failures = 0;
  return {
    async record(entry) {
      try {
        await write(entry);
      } catch (error) {
        failures++;
        logger.error(
          { err: error, audit: entry.action, sessionId: entry.sessionId, failures },
          'could not write an audit event',
        );
      }
    },
    get failures() {
      return failures;
    },
  };
}

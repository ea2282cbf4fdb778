import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { auditEvents, auditHead, operators, sessions } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import { bodyHashOf, GENESIS_HASH, linkHashOf } from './chain.ts';

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

/**
 * Writes audit events to the database as a hash chain (README, "Audit trail") and mirrors them to the
 * structured log. Reads the chain's head once; this process's writes then go through one queue.
 */
export async function createAuditLog(db: Database, logger: Logger): Promise<AuditLog> {
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

  /** The event's row as the database will give it back, so the hash written is the hash re-computed. */
  const rowOf = async (entry: AuditEntry, at: Date) => ({
    organisationId: await organisationOf(entry),
    at,
    actorType: entry.actorType,
    actorId: entry.actorId ?? null,
    action: entry.action,
    sessionId: entry.sessionId ?? null,
    address: entry.address ?? null,
    details: entry.details ? (JSON.parse(JSON.stringify(entry.details)) as Record<string, unknown>) : null,
  });
  type Row = Awaited<ReturnType<typeof rowOf>>;

  /**
   * Appends one link: the row and the moved head in one batch (one short write transaction on one
   * connection, never held across an await), so a failure leaves both as they were.
   */
  const append = async (row: Row) => {
    const seq = head.seq + 1;
    const prevHash = head.hash;
    const hash = linkHashOf(seq, prevHash, bodyHashOf({ ...row, at: row.at.getTime() }));
    await db.batch([
      db.insert(auditEvents).values({ ...row, seq, prevHash, hash }),
      db
        .insert(auditHead)
        .values({ id: 1, seq, hash })
        .onConflictDoUpdate({ target: auditHead.id, set: { seq, hash } }),
    ]);
    head = { seq, hash };
  };

  const write = async (entry: AuditEntry, row: Row) => {
    try {
      await append(row);
    } catch (error) {
      // Another control plane sharing the database may have moved the head (the unique seq refused
      // this link): continue from the stored head once. Any other failure leaves the head unchanged.
      const stored = await storedHead(db);
      if (stored.seq === head.seq && stored.hash === head.hash) throw error;
      head = stored;
      await append(row);
    }
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

  let head = await storedHead(db);
  let failures = 0;
  // One link at a time, in call order: each needs the one before it. Rows are prepared (their
  // organisation looked up) as they come, outside the queue.
  let queue: Promise<void> = Promise.resolve();
  return {
    record(entry) {
      const at = new Date();
      const row = Promise.resolve().then(() => rowOf(entry, at));
      // Settled before the next link starts, so nothing this returns ever rejects.
      row.catch(() => undefined);
      queue = queue
        .then(async () => write(entry, await row))
        .catch((error: unknown) => {
          failures++;
          logger.error(
            { err: error, audit: entry.action, sessionId: entry.sessionId, failures },
            'could not write an audit event',
          );
        });
      return queue;
    },
    get failures() {
      return failures;
    },
  };
}

/** The chain's newest link as stored; the genesis when the chain is empty. */
async function storedHead(db: Database): Promise<{ seq: number; hash: string }> {
  const [row] = await db.select().from(auditHead).where(eq(auditHead.id, 1));
  return row ? { seq: row.seq, hash: row.hash } : { seq: 0, hash: GENESIS_HASH };
}

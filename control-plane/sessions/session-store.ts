import { createHmac, randomInt, randomUUID } from 'node:crypto';
import { and, desc, eq, isNull, lt, ne } from 'drizzle-orm';
import { CONNECTION_CODE_DIGITS } from '../../protocol/index.ts';
import type { Database } from '../db/client.ts';
import { type AgentInfo, type SessionStatus, sessions } from '../db/schema.ts';

export type SessionRow = typeof sessions.$inferSelect;

export type RedeemResult =
  | { ok: true; session: SessionRow }
  | { ok: false; code: 'CODE_INVALID' | 'CODE_EXPIRED' | 'CODE_USED' | 'SESSION_ENDED' };

/** How a session looks in the API. */
export function sessionView(row: SessionRow) {
  return {
    id: row.id,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    activatedAt: row.activatedAt?.toISOString() ?? null,
    endedAt: row.endedAt?.toISOString() ?? null,
    endReason: row.endReason,
    codeExpiresAt: row.codeExpiresAt?.toISOString() ?? null,
    agent: row.agentInfo ?? null,
    operatorId: row.operatorId,
  };
}

export type SessionView = ReturnType<typeof sessionView>;

/**
 * Sessions and their connection codes in the database. A code is kept only as an HMAC under a server
 * secret: a stolen database does not reveal live codes, and a 9-digit code cannot be brute-forced
 * offline without the secret.
 */
export class SessionStore {
  constructor(
    private readonly db: Database,
    private readonly codeSecret: Buffer,
    private readonly codeTtlMs: number,
  ) {}

  hashCode(code: string): string {
    return createHmac('sha256', this.codeSecret).update(code).digest('hex');
  }

  /** Creates a waiting session for a freshly registered agent and returns its one-time code. */
  async createWithCode(agentInfo: AgentInfo, node: string): Promise<{ session: SessionRow; code: string }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const code = String(randomInt(0, 10 ** CONNECTION_CODE_DIGITS)).padStart(CONNECTION_CODE_DIGITS, '0');
      const now = new Date();
      const rows = await this.db
        .insert(sessions)
        .values({
          id: randomUUID(),
          status: 'waiting',
          codeHash: this.hashCode(code),
          codeExpiresAt: new Date(now.getTime() + this.codeTtlMs),
          createdAt: now,
          agentInfo,
          relayNode: node,
        })
        .onConflictDoNothing()
        .returning();
      // A collision with a code still on record: draw again.
      if (rows[0]) return { session: rows[0], code };
    }
    throw new Error('could not allocate a unique connection code');
  }

  /**
   * Redeems a code for an operator, atomically: of two operators racing for one code, one wins and
   * the other is told it was used.
   */
  async redeem(code: string, operatorId: string): Promise<RedeemResult> {
    const codeHash = this.hashCode(code);
    const now = new Date();
    const [won] = await this.db
      .update(sessions)
      .set({ codeRedeemedAt: now, operatorId })
      .where(
        and(eq(sessions.codeHash, codeHash), isNull(sessions.codeRedeemedAt), ne(sessions.status, 'ended')),
      )
      .returning();
    if (won) {
      if (won.codeExpiresAt && won.codeExpiresAt.getTime() <= now.getTime()) {
        // Expired while waiting: undo the claim so the answer stays CODE_EXPIRED for everyone.
        await this.db
          .update(sessions)
          .set({ codeRedeemedAt: null, operatorId: null })
          .where(eq(sessions.id, won.id));
        return { ok: false, code: 'CODE_EXPIRED' };
      }
      return { ok: true, session: won };
    }
    const [row] = await this.db.select().from(sessions).where(eq(sessions.codeHash, codeHash));
    if (!row) return { ok: false, code: 'CODE_INVALID' };
    if (row.codeRedeemedAt) return { ok: false, code: 'CODE_USED' };
    if (row.codeExpiresAt && row.codeExpiresAt.getTime() <= now.getTime())
      return { ok: false, code: 'CODE_EXPIRED' };
    return { ok: false, code: 'SESSION_ENDED' };
  }

  async get(id: string): Promise<SessionRow | undefined> {
    const [row] = await this.db.select().from(sessions).where(eq(sessions.id, id));
    return row;
  }

  /** Lists sessions newest first; the cursor is the `createdAt` of the last row seen. */
  async list(options: { status?: SessionStatus; limit: number; before?: Date }): Promise<SessionRow[]> {
    const conditions = [];
    if (options.status) conditions.push(eq(sessions.status, options.status));
    if (options.before) conditions.push(lt(sessions.createdAt, options.before));
    return this.db
      .select()
      .from(sessions)
      .where(conditions.length ? and(...conditions) : undefined)
      .orderBy(desc(sessions.createdAt))
      .limit(options.limit);
  }

  async markActive(id: string): Promise<void> {
    await this.db
      .update(sessions)
      .set({ status: 'active', activatedAt: new Date() })
      .where(and(eq(sessions.id, id), eq(sessions.status, 'waiting')));
  }

  /** Ends a session once; returns false when it had already ended. */
  async markEnded(id: string, reason: string): Promise<boolean> {
    const rows = await this.db
      .update(sessions)
      .set({ status: 'ended', endedAt: new Date(), endReason: reason })
      .where(and(eq(sessions.id, id), ne(sessions.status, 'ended')))
      .returning({ id: sessions.id });
    return rows.length > 0;
  }

  /** Ends what a previous run of this node left open: its sockets are gone. */
  async endOrphans(node: string): Promise<number> {
    const rows = await this.db
      .update(sessions)
      .set({ status: 'ended', endedAt: new Date(), endReason: 'server-shutdown' })
      .where(and(eq(sessions.relayNode, node), ne(sessions.status, 'ended')))
      .returning({ id: sessions.id });
    return rows.length;
  }
}

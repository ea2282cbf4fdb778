import { randomBytes } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import type { Database } from '../db/client.ts';
import { invitations } from '../db/schema.ts';

export type InvitationRow = typeof invitations.$inferSelect;

/** Bytes of randomness in an invitation's id (the part of the link that names it). */
const ID_BYTES = 18;

/** What checking a password against an invitation found. */
export type InvitationCheck =
  | { ok: true; invitation: InvitationRow }
  | { ok: false; code: 'NOT_FOUND' | 'INVITATION_EXPIRED' | 'INVITATION_USED' | 'PASSWORD_WRONG' };

/**
 * Invitations in the database. The password is kept only as a scrypt hash (the operators' password
 * scheme, `auth/passwords.ts`), so a stolen database does not reveal it; the id in the link is random
 * and names the invitation, it does not open it.
 */
export class InvitationStore {
  constructor(private readonly db: Database) {}

  async create(sessionId: string, password: string, expiresAt: Date): Promise<InvitationRow> {
    const [row] = await this.db
      .insert(invitations)
      .values({
        id: randomBytes(ID_BYTES).toString('base64url'),
        sessionId,
        passwordHash: await hashPassword(password),
        expiresAt,
        createdAt: new Date(),
      })
      .returning();
    return row!;
  }

  async get(id: string): Promise<InvitationRow | undefined> {
    const [row] = await this.db.select().from(invitations).where(eq(invitations.id, id));
    return row;
  }

  /**
   * Checks `password` and, when right, marks the invitation opened by `operatorId`, atomically: of two
   * helpers with the right password, one opens it and the other is told it was used. An expired
   * invitation is refused before its password is looked at.
   */
  async open(id: string, password: string, operatorId: string): Promise<InvitationCheck> {
    const row = await this.get(id);
    if (!row) return { ok: false, code: 'NOT_FOUND' };
    if (row.expiresAt.getTime() <= Date.now()) return { ok: false, code: 'INVITATION_EXPIRED' };
    if (!(await verifyPassword(password, row.passwordHash))) return { ok: false, code: 'PASSWORD_WRONG' };
    const now = new Date();
    const [won] = await this.db
      .update(invitations)
      .set({ openedAt: now, openedById: operatorId })
      .where(and(eq(invitations.id, id), isNull(invitations.openedAt), gt(invitations.expiresAt, now)))
      .returning();
    if (won) return { ok: true, invitation: won };
    return {
      ok: false,
      code: row.openedAt || (await this.get(id))?.openedAt ? 'INVITATION_USED' : 'INVITATION_EXPIRED',
    };
  }

  /** Gives an invitation back, when the helper who opened it may not have it. */
  async reopen(id: string): Promise<void> {
    await this.db.update(invitations).set({ openedAt: null, openedById: null }).where(eq(invitations.id, id));
  }
}

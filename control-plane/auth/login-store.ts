import { randomUUID } from 'node:crypto';
import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { loginSessions, operators } from '../db/schema.ts';
import type { OperatorRow } from '../http/app-env.ts';

export type LoginRow = typeof loginSessions.$inferSelect;

/** Console logins (the `login_sessions` table): opened at login, revoked at logout or account change. */
export class LoginStore {
  constructor(private readonly db: Database) {}

  /** Records a new login and returns its id (the console cookie's `jti`). */
  async open(operatorId: string, expiresAt: Date, address: string | null): Promise<string> {
    const id = randomUUID();
    await this.db.insert(loginSessions).values({ id, operatorId, createdAt: new Date(), expiresAt, address });
    return id;
  }

  /** A login that is not revoked, with its operator (expiry is the caller's to judge). */
  async withOperator(id: string): Promise<{ login: LoginRow; operator: OperatorRow } | undefined> {
    const [row] = await this.db
      .select({ operator: operators, login: loginSessions })
      .from(loginSessions)
      .innerJoin(operators, eq(operators.id, loginSessions.operatorId))
      .where(and(eq(loginSessions.id, id), isNull(loginSessions.revokedAt)));
    return row;
  }

  async revoke(id: string): Promise<void> {
    await this.db.update(loginSessions).set({ revokedAt: new Date() }).where(eq(loginSessions.id, id));
  }

  /** Revokes every login of an operator (disabled, new password, new role…). */
  async revokeAllOf(operatorId: string): Promise<void> {
    await this.db
      .update(loginSessions)
      .set({ revokedAt: new Date() })
      .where(eq(loginSessions.operatorId, operatorId));
  }

  /** Addresses of the operator's latest logins since `since`, newest first. */
  async recentAddresses(operatorId: string, since: Date, limit: number): Promise<(string | null)[]> {
    const rows = await this.db
      .select({ address: loginSessions.address })
      .from(loginSessions)
      .where(and(eq(loginSessions.operatorId, operatorId), gt(loginSessions.createdAt, since)))
      .orderBy(desc(loginSessions.createdAt))
      .limit(limit);
    return rows.map((row) => row.address);
  }
}

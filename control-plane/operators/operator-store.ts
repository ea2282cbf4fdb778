import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { operators } from '../db/schema.ts';
import type { OperatorRow } from '../http/app-env.ts';
import { pageKeyset } from '../http/paging.ts';

export type NewOperator = typeof operators.$inferInsert;
/** What an administrator (or the operator, for the second factor) may change of an account. */
export type OperatorChange = Partial<
  Pick<
    OperatorRow,
    | 'name'
    | 'role'
    | 'organisationId'
    | 'passwordHash'
    | 'disabledAt'
    | 'totpSecret'
    | 'totpEnabledAt'
    | 'totpLastStep'
  >
>;

/** Operator accounts: the one place that reads and writes the `operators` table for the routes. */
export class OperatorStore {
  constructor(private readonly db: Database) {}

  async get(id: string): Promise<OperatorRow | undefined> {
    const [row] = await this.db.select().from(operators).where(eq(operators.id, id));
    return row;
  }

  async byUsername(username: string): Promise<OperatorRow | undefined> {
    const [row] = await this.db.select().from(operators).where(eq(operators.username, username));
    return row;
  }

  /** One page, oldest first; `organisationId` limits it to one organisation. */
  list(
    organisationId: string | undefined,
    query: { limit: number; cursor?: string | undefined },
  ): Promise<OperatorRow[]> {
    const keyset = pageKeyset(operators, query);
    return this.db
      .select()
      .from(operators)
      .where(and(organisationId ? eq(operators.organisationId, organisationId) : undefined, keyset.where))
      .orderBy(...keyset.orderBy)
      .limit(keyset.fetch);
  }

  async create(values: NewOperator): Promise<OperatorRow> {
    const [row] = await this.db.insert(operators).values(values).returning();
    return row!;
  }

  async update(id: string, change: OperatorChange): Promise<OperatorRow | undefined> {
    const [row] = await this.db.update(operators).set(change).where(eq(operators.id, id)).returning();
    return row;
  }

  /**
   * Claims an authenticator time step atomically: true the first time a step (or a later one) is
   * presented, false for the same code sent twice or replayed.
   */
  async claimTotpStep(id: string, step: number): Promise<boolean> {
    const claimed = await this.db
      .update(operators)
      .set({ totpLastStep: step })
      .where(and(eq(operators.id, id), or(isNull(operators.totpLastStep), lt(operators.totpLastStep, step))))
      .returning({ id: operators.id });
    return claimed.length > 0;
  }
}

import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { organisations } from '../db/schema.ts';
import { pageKeyset } from '../http/paging.ts';

export type OrganisationRow = typeof organisations.$inferSelect;

/** Organisations: the one place the routes read and write the `organisations` table. */
export class OrganisationStore {
  constructor(private readonly db: Database) {}

  async get(id: string): Promise<OrganisationRow | undefined> {
    const [row] = await this.db.select().from(organisations).where(eq(organisations.id, id));
    return row;
  }

  /** The first organisation created: where agents without a registration key belong. */
  async first(): Promise<OrganisationRow> {
    const [row] = await this.db.select().from(organisations).orderBy(organisations.createdAt).limit(1);
    if (!row) throw new Error('No organisation exists: the first start creates one.');
    return row;
  }

  /** One page, oldest first; `onlyId` limits it to that organisation. */
  list(
    onlyId: string | undefined,
    query: { limit: number; cursor?: string | undefined },
  ): Promise<OrganisationRow[]> {
    const keyset = pageKeyset(organisations, query);
    return this.db
      .select()
      .from(organisations)
      .where(and(onlyId ? eq(organisations.id, onlyId) : undefined, keyset.where))
      .orderBy(...keyset.orderBy)
      .limit(keyset.fetch);
  }

  async create(name: string): Promise<OrganisationRow> {
    const [row] = await this.db
      .insert(organisations)
      .values({ id: randomUUID(), name, createdAt: new Date() })
      .returning();
    return row!;
  }
}

import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { apiTokens, operators } from '../db/schema.ts';
import type { OperatorRow } from '../http/app-env.ts';
import { pageKeyset } from '../http/paging.ts';

export type ApiTokenRow = typeof apiTokens.$inferSelect;

/** API tokens (the `api_tokens` table): only their hashes are kept. */
export class ApiTokenStore {
  constructor(private readonly db: Database) {}

  async create(row: ApiTokenRow): Promise<void> {
    await this.db.insert(apiTokens).values(row);
  }

  /** One page of the tokens not revoked, oldest first. */
  list(query: { limit: number; cursor?: string | undefined }): Promise<ApiTokenRow[]> {
    const keyset = pageKeyset(apiTokens, query);
    return this.db
      .select()
      .from(apiTokens)
      .where(and(isNull(apiTokens.revokedAt), keyset.where))
      .orderBy(...keyset.orderBy)
      .limit(keyset.fetch);
  }

  /** Revokes a token; false when there is no such token or it was revoked already. */
  async revoke(id: string): Promise<boolean> {
    const result = await this.db
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id });
    return result.length > 0;
  }

  /** The token with this hash, not revoked, and its owner (expiry is the caller's to judge). */
  async byHash(tokenHash: string): Promise<{ token: ApiTokenRow; operator: OperatorRow } | undefined> {
    const [row] = await this.db
      .select({ operator: operators, token: apiTokens })
      .from(apiTokens)
      .innerJoin(operators, eq(operators.id, apiTokens.operatorId))
      .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)));
    return row;
  }

  /** The token with this id, revoked or not, and its owner. */
  async byId(id: string): Promise<{ token: ApiTokenRow; operator: OperatorRow } | undefined> {
    const [row] = await this.db
      .select({ operator: operators, token: apiTokens })
      .from(apiTokens)
      .innerJoin(operators, eq(operators.id, apiTokens.operatorId))
      .where(eq(apiTokens.id, id));
    return row;
  }

  async markUsed(id: string): Promise<void> {
    await this.db.update(apiTokens).set({ lastUsedAt: new Date() }).where(eq(apiTokens.id, id));
  }
}

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { DEFAULT_POLICY, type Policy, policySchema } from '../../protocol/index.ts';
import type { Database } from '../db/client.ts';
import { deviceGroups } from '../db/schema.ts';
import { DEFAULT_PAGE_SIZE, pageKeyset } from '../http/paging.ts';

export type GroupRow = typeof deviceGroups.$inferSelect;

/** Prefix of group registration keys, recognisable to secret scanners. */
export const REGISTRATION_KEY_PREFIX = 'llr_';

export function hashRegistrationKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * A row as the store hands it out, its policy parsed once here: a row written by an older version
 * gets today's defaults for what it lacks, and one that does not parse gets the defaults.
 */
function withPolicy(row: GroupRow): GroupRow {
  const parsed = policySchema.safeParse({ ...DEFAULT_POLICY, ...row.policy });
  return { ...row, policy: parsed.success ? parsed.data : { ...DEFAULT_POLICY } };
}

export function groupView(group: GroupRow) {
  return {
    id: group.id,
    organisationId: group.organisationId,
    name: group.name,
    isDefault: group.isDefault,
    hasRegistrationKey: group.registrationKeyHash !== null,
    policy: group.policy,
    createdAt: group.createdAt.toISOString(),
  };
}

/** Device groups and their policies. */
export class GroupStore {
  constructor(private readonly db: Database) {}

  async get(id: string): Promise<GroupRow | undefined> {
    const [row] = await this.db.select().from(deviceGroups).where(eq(deviceGroups.id, id));
    return row && withPolicy(row);
  }

  /** One page of groups (fetches `limit + 1` rows for `pageOf`), oldest first. */
  async list(
    organisationId: string | undefined,
    page: { limit: number; cursor?: string | undefined } = { limit: DEFAULT_PAGE_SIZE },
  ): Promise<GroupRow[]> {
    const keyset = pageKeyset(deviceGroups, page);
    const rows = await this.db
      .select()
      .from(deviceGroups)
      .where(and(organisationId ? eq(deviceGroups.organisationId, organisationId) : undefined, keyset.where))
      .orderBy(...keyset.orderBy)
      .limit(keyset.fetch);
    return rows.map(withPolicy);
  }

  /** The organisation's default group, if it has one yet. */
  async findDefault(organisationId: string): Promise<GroupRow | undefined> {
    const [existing] = await this.db
      .select()
      .from(deviceGroups)
      .where(and(eq(deviceGroups.organisationId, organisationId), eq(deviceGroups.isDefault, true)));
    return existing && withPolicy(existing);
  }

  /** The organisation's default group, created on first need: user-first agents land there. */
  async defaultFor(organisationId: string): Promise<GroupRow> {
    const existing = await this.findDefault(organisationId);
    if (existing) return existing;
    return this.create({ organisationId, name: 'Default', policy: { ...DEFAULT_POLICY }, isDefault: true });
  }

  async create(input: {
    organisationId: string;
    name: string;
    policy: Policy;
    isDefault?: boolean;
  }): Promise<GroupRow> {
    const [row] = await this.db
      .insert(deviceGroups)
      .values({
        id: randomUUID(),
        organisationId: input.organisationId,
        name: input.name,
        policy: input.policy,
        isDefault: input.isDefault ?? false,
        createdAt: new Date(),
      })
      .returning();
    return withPolicy(row!);
  }

  async rename(id: string, name: string): Promise<GroupRow | undefined> {
    const [row] = await this.db.update(deviceGroups).set({ name }).where(eq(deviceGroups.id, id)).returning();
    return row && withPolicy(row);
  }

  async setPolicy(id: string, policy: Policy): Promise<GroupRow | undefined> {
    const [row] = await this.db
      .update(deviceGroups)
      .set({ policy })
      .where(eq(deviceGroups.id, id))
      .returning();
    return row && withPolicy(row);
  }

  /** Issues a new registration key for the group (the old one stops working); shown once. */
  async rotateRegistrationKey(id: string): Promise<string> {
    const key = REGISTRATION_KEY_PREFIX + randomBytes(24).toString('base64url');
    await this.db
      .update(deviceGroups)
      .set({ registrationKeyHash: hashRegistrationKey(key) })
      .where(eq(deviceGroups.id, id));
    return key;
  }

  async byRegistrationKey(key: string): Promise<GroupRow | undefined> {
    const [row] = await this.db
      .select()
      .from(deviceGroups)
      .where(eq(deviceGroups.registrationKeyHash, hashRegistrationKey(key)));
    return row && withPolicy(row);
  }
}

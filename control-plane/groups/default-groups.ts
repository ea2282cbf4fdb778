import { DEFAULT_POLICY } from '../../protocol/index.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { organisations } from '../db/schema.ts';
import type { GroupStore } from './group-store.ts';

/**
 * Every organisation has a default device group, where agents without a registration key land. Its
 * first policy takes the code lifetime from the configuration.
 */
export async function ensureDefaultGroups(db: Database, groups: GroupStore, config: Config): Promise<void> {
  const codeLifetimeMinutes = Math.max(1, Math.round(config.codeTtlMs / 60_000));
  for (const organisation of await db.select().from(organisations)) {
    if (!(await groups.findDefault(organisation.id))) {
      await groups.create({
        organisationId: organisation.id,
        name: 'Default',
        policy: { ...DEFAULT_POLICY, codeLifetimeMinutes },
        isDefault: true,
      });
    }
  }
}

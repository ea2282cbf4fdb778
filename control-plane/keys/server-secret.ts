import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { ConfigError } from '../config.ts';
import type { Database } from '../db/client.ts';
import { serverSecrets } from '../db/schema.ts';
import { MASTER_KEY_FILE, type MasterKey } from './master-key.ts';
import { openText, sealText } from './sealing.ts';

/** Marks a value sealed under the master key; older rows hold the bare base64url secret. */
const SEALED_PREFIX = 'sealed:v1:';

/**
 * Returns a named 256-bit secret, generating it on first use. Stored in the database, sealed under
 * the master key, so every node of the control plane derives the same values and a copy of the
 * database alone does not reveal it. A secret stored bare by an older version is sealed in place.
 */
export async function loadServerSecret(db: Database, name: string, master: MasterKey): Promise<Buffer> {
  const key = master.derive(`server-secret/${name}`);
  await db
    .insert(serverSecrets)
    .values({
      name,
      value: SEALED_PREFIX + sealText(randomBytes(32).toString('base64url'), key),
      createdAt: new Date(),
    })
    .onConflictDoNothing();
  const [row] = await db.select().from(serverSecrets).where(eq(serverSecrets.name, name));
  if (!row) throw new Error(`server secret ${name} could not be stored`);
  if (!row.value.startsWith(SEALED_PREFIX)) {
    await db
      .update(serverSecrets)
      .set({ value: SEALED_PREFIX + sealText(row.value, key) })
      .where(eq(serverSecrets.name, name));
    return Buffer.from(row.value, 'base64url');
  }
  return Buffer.from(
    unseal(row.value.slice(SEALED_PREFIX.length), key, `server secret ${name}`),
    'base64url',
  );
}

/** Opens a sealed value, or explains that the master key is not the one it was sealed with. */
export function unseal(sealed: string, key: Buffer, what: string): string {
  try {
    return openText(sealed, key);
  } catch (error) {
    throw new ConfigError(
      `The ${what} in the database was sealed with a different master key. Use the same LIFELINE_MASTER_KEY (or ${MASTER_KEY_FILE} in the data directory) as the node that created the database.`,
      { cause: error },
    );
  }
}

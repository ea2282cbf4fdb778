import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Client, createClient } from '@libsql/client';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { ConfigError, describeUrl } from '../config.ts';
import * as schema from './schema.ts';

export type Database = LibSQLDatabase<typeof schema>;

/** How long a write waits for another connection's lock before it fails, in ms. */
const BUSY_TIMEOUT_MS = 5000;

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Opens the database (creating a local file and its folder when needed) and applies the committed
 * migrations, so a fresh data directory is ready to use.
 */
export async function openDatabase(
  url: string,
  authToken?: string,
): Promise<{ db: Database; client: Client }> {
  if (url.startsWith('file:')) mkdirSync(dirname(url.slice('file:'.length)), { recursive: true });
  let client: Client;
  try {
    // libSQL keeps a pool: a connection opened while a transaction holds another misses PRAGMAs
    // run on the first, so the busy timeout goes in the options every connection is opened with.
    client = createClient({ url, timeout: BUSY_TIMEOUT_MS, ...(authToken ? { authToken } : {}) });
  } catch (error) {
    // libSQL's and Node's URL errors quote the whole URL, query token included: none of it is kept.
    const code = (error as { code?: unknown }).code;
    throw new ConfigError(
      `LIFELINE_DATABASE_URL is not a URL libSQL accepts (${describeUrl(url)}${typeof code === 'string' ? `, ${code}` : ''}): give a file: URL, or a libsql://, https:// or wss:// one.`,
    );
  }
  if (url.startsWith('file:')) {
    // WAL lets readers (the API) go on while the relay writes session state.
    await client.execute('PRAGMA journal_mode = WAL');
  }
  await client.execute('PRAGMA foreign_keys = ON');
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  return { db, client };
}

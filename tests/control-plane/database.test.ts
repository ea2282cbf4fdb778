import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDatabase } from '../../control-plane/db/client.ts';

describe('the database file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-db-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a connection opened while a transaction holds another still waits for locks and checks foreign keys', async () => {
    const { client } = await openDatabase(`file:${join(dir, 'pool.db')}`);
    try {
      // The transaction keeps the first connection: what follows runs on a second one.
      const transaction = await client.transaction('write');
      try {
        const busy = await client.execute('PRAGMA busy_timeout');
        assert.ok(Number(Object.values(busy.rows[0] ?? {})[0]) >= 1000, JSON.stringify(busy.rows));
        const keys = await client.execute('PRAGMA foreign_keys');
        assert.equal(Number(Object.values(keys.rows[0] ?? {})[0]), 1);
      } finally {
        await transaction.rollback();
      }
    } finally {
      client.close();
    }
  });
});

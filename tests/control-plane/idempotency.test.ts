import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { idempotencyKeys } from '../../control-plane/db/schema.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';

describe('Idempotency-Key on creates', () => {
  let cp: TestControlPlane;
  let cookie: string;
  before(async () => {
    cp = await startControlPlane();
    cookie = await loginCookie(cp.app);
  });
  after(() => cp.stop());

  const createToken = (key: string, name = 'nightly') =>
    cp.app.request('/api/tokens', {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ name, scopes: ['sessions:read'] }),
    });

  it('a stored response never holds the secret it showed: a new API token is not readable in the database', async () => {
    const first = await createToken('key-secret-0001');
    const { token } = await first.json();
    assert.match(token, /^llt_/);
    const replay = await createToken('key-secret-0001');
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal((await replay.json()).token, token, 'the retry gets the same answer');
    const rows = await cp.services.db.select().from(idempotencyKeys);
    assert.ok(rows.length > 0);
    for (const row of rows) {
      assert.ok(
        !row.body.includes(token) && !row.body.includes(token.slice(4)),
        'no token in the stored body',
      );
      assert.ok(!row.key.includes('key-secret-0001'), 'the key itself is not stored');
    }
  });

  it('requests racing with one key create once', async () => {
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => createToken('key-race-0001', 'racing')),
    );
    const created = responses.filter(
      (r) => r.status === 201 && r.headers.get('idempotent-replayed') !== 'true',
    );
    assert.equal(created.length, 1, `statuses: ${responses.map((r) => r.status).join(',')}`);
    for (const response of responses) assert.ok([201, 409].includes(response.status));
    const list = await (await cp.app.request('/api/tokens', { headers: { cookie } })).json();
    assert.equal(list.items.filter((t: { name: string }) => t.name === 'racing').length, 1);
  });
});

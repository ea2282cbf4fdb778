import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type ApiClient,
  assertProblem,
  type Credentials,
  createOperator,
  createToken,
  expectJson,
  type Page,
  readAllPages,
  startWithAdmin,
} from '../support/api.ts';
import type { TestControlPlane } from '../support/control-plane.ts';

/** Rows made per list: more than three pages of the small page size below. */
const ROWS = 7;
const LIMIT = 2;

describe('every list pages with limit and nextCursor', () => {
  let cp: TestControlPlane;
  let api: ApiClient;
  let admin: Credentials;
  let managerOfB: Credentials;
  const made = {
    operators: [] as string[],
    tokens: [] as string[],
    organisations: [] as string[],
    groups: [] as string[],
  };
  let orgB: string;

  before(async () => {
    const started = await startWithAdmin();
    ({ cp, api, admin } = started);
    const { me } = started;
    for (let i = 0; i < ROWS; i++) {
      const organisation = await expectJson<{ id: string }>(
        await api.post('/api/organisations', admin, { name: `paged org ${i}` }),
        201,
      );
      made.organisations.push(organisation.id);
      const operator = await expectJson<{ id: string }>(
        await api.post('/api/operators', admin, {
          username: `paged-${i}`,
          name: `Paged ${i}`,
          password: 'a long enough passphrase',
          role: 'technician',
          organisationId: me.organisationId,
        }),
        201,
      );
      made.operators.push(operator.id);
      made.tokens.push((await createToken(api, admin, ['sessions:read'], `paged token ${i}`)).id);
      const group = await expectJson<{ id: string }>(
        await api.post('/api/groups', admin, { name: `paged group ${i}` }),
        201,
      );
      made.groups.push(group.id);
    }
    orgB = made.organisations[0]!;
    managerOfB = {
      cookie: (
        await createOperator(api, admin, { username: 'manager-b', role: 'manager', organisationId: orgB })
      ).cookie,
    };
  });

  after(async () => {
    await cp.stop();
  });

  for (const list of ['operators', 'tokens', 'organisations', 'groups'] as const) {
    it(`/api/${list} pages through every row once, in creation order, and ends with a null cursor`, async () => {
      const all = await readAllPages<{ id: string }>(api, `/api/${list}?limit=${LIMIT}`, admin);
      const ids = all.items.map((item) => item.id);
      assert.equal(new Set(ids).size, ids.length, 'no row appears twice');
      for (const id of made[list]) assert.ok(ids.includes(id), `${id} is on some page`);
      assert.ok(all.pages >= Math.ceil(ROWS / LIMIT), `${all.pages} pages of ${LIMIT}`);
      const positions = made[list].map((id) => ids.indexOf(id));
      assert.deepEqual(
        positions,
        [...positions].sort((a, b) => a - b),
        'oldest first',
      );
    });

    it(`/api/${list} refuses a cursor it did not make and a limit over 500`, async () => {
      await assertProblem(await api.get(`/api/${list}?cursor=not-a-cursor`, admin), 400, 'VALIDATION_FAILED');
      await assertProblem(await api.get(`/api/${list}?limit=501`, admin), 400, 'VALIDATION_FAILED');
    });
  }

  it('a manager pages only through their own organisation', async () => {
    const first = await expectJson<Page<{ organisationId: string }>>(
      await api.get('/api/operators?limit=1', managerOfB),
      200,
    );
    assert.equal(first.items.length, 1);
    const all = await readAllPages<{ organisationId: string; id: string }>(
      api,
      '/api/operators?limit=1',
      managerOfB,
    );
    assert.ok(all.items.length >= 1);
    assert.ok(all.items.every((operator) => operator.organisationId === orgB));
    assert.ok(!all.items.some((operator) => made.operators.includes(operator.id)));
  });
});

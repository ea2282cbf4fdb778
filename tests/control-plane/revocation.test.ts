import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { apiTokens } from '../../control-plane/db/schema.ts';
import {
  type ApiClient,
  assertProblem,
  type Credentials,
  createOperator,
  createToken,
  expectJson,
  startWithAdmin,
} from '../support/api.ts';
import type { TestControlPlane } from '../support/control-plane.ts';
import { waitFor } from '../support/processes.ts';

/**
 * Access taken away reaches requests already under way: a long-poll held open by a script whose
 * operator is disabled, or whose token is revoked, answers 401 instead of session data.
 */
describe('revoking access ends what the caller has under way', () => {
  let cp: TestControlPlane;
  let api: ApiClient;
  let admin: Credentials;
  let organisationId: string;
  let unique = 0;

  before(async () => {
    const started = await startWithAdmin();
    ({ cp, api, admin } = started);
    const { me } = started;
    organisationId = me.organisationId;
  });

  after(async () => {
    await cp?.stop();
  });

  /** A second administrator (only administrators make API tokens) with a token, and a session that stays open. */
  async function scriptWithSession() {
    const { operator, cookie } = await createOperator(api, admin, {
      username: `script-owner-${++unique}`,
      role: 'admin',
      organisationId,
    });
    const token = await createToken(api, { cookie }, ['sessions:read', 'sessions:write']);
    const created = await expectJson<{ session: { id: string } }>(
      await api.post('/api/sessions', { cookie }, {}),
      201,
    );
    return { operator, token, sessionId: created.session.id };
  }

  /**
   * Starts a wait for the session's end (which does not come) with the token, and resolves once the
   * wait is past authentication: the token's use is recorded then.
   */
  async function pendingWait(token: { id: string; token: string }, sessionId: string) {
    const response = api.get(`/api/sessions/${sessionId}/wait?until=ended&timeout=60`, {
      token: token.token,
    });
    await waitFor('the wait to be authenticated', async () => {
      const [row] = await cp.services.db.select().from(apiTokens).where(eq(apiTokens.id, token.id));
      return row?.lastUsedAt !== null;
    });
    // Wrapped: an async function returning the promise itself would wait for the answer.
    return { response };
  }

  it('a /wait held open when its operator is disabled answers 401 UNAUTHENTICATED, not the session', async () => {
    const { operator, token, sessionId } = await scriptWithSession();
    const { response: waiting } = await pendingWait(token, sessionId);
    await expectJson(await api.patch(`/api/operators/${operator.id}`, admin, { disabled: true }), 200);
    // Well before the wait's own 60 s timeout, after which the old code answered 200 with the session.
    await assertProblem(await waiting, 401, 'UNAUTHENTICATED');
  });

  it('a /wait held open when its API token is revoked answers 401 UNAUTHENTICATED', async () => {
    const { token, sessionId } = await scriptWithSession();
    const { response: waiting } = await pendingWait(token, sessionId);
    assert.equal((await api.delete(`/api/tokens/${token.id}`, admin)).status, 204);
    await assertProblem(await waiting, 401, 'UNAUTHENTICATED');
  });

  it("a disabled operator's API token is refused with 401 UNAUTHENTICATED at once", async () => {
    const { operator, token, sessionId } = await scriptWithSession();
    await expectJson(await api.get(`/api/sessions/${sessionId}`, { token: token.token }), 200);
    await expectJson(await api.patch(`/api/operators/${operator.id}`, admin, { disabled: true }), 200);
    await assertProblem(
      await api.get(`/api/sessions/${sessionId}`, { token: token.token }),
      401,
      'UNAUTHENTICATED',
    );
    await assertProblem(
      await api.get(`/api/sessions/${sessionId}/wait?until=ended&timeout=0`, { token: token.token }),
      401,
      'UNAUTHENTICATED',
    );
  });
});

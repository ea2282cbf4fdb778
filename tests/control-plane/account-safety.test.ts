import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { currentTotp } from '../../control-plane/auth/totp.ts';
import { sessions } from '../../control-plane/db/schema.ts';
import {
  ADMIN_PASSWORD,
  loginCookie,
  registerAgent,
  startControlPlane,
  type TestControlPlane,
} from '../support/control-plane.ts';

describe('second factor and expired invitations', () => {
  let cp: TestControlPlane;
  let admin: string;
  before(async () => {
    cp = await startControlPlane();
    admin = await loginCookie(cp.app);
  });
  after(() => cp.stop());

  const json = (cookie: string, body: unknown) => ({
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

  async function operatorWithTotp(username: string) {
    const organisationId = (
      await (await cp.app.request('/api/organisations', { headers: { cookie: admin } })).json()
    ).items[0].id;
    const created = await cp.app.request(
      '/api/operators',
      json(admin, { username, name: username, password: ADMIN_PASSWORD, role: 'technician', organisationId }),
    );
    assert.equal(created.status, 201);
    const { id } = await created.json();
    const cookie = await loginCookie(cp.app, username, ADMIN_PASSWORD);
    const { secret } = await (await cp.app.request('/api/auth/totp/setup', json(cookie, {}))).json();
    const enable = await cp.app.request('/api/auth/totp/enable', json(cookie, { code: currentTotp(secret) }));
    assert.equal(enable.status, 200);
    return { id, secret };
  }

  const login = (username: string, totp?: string) =>
    cp.app.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': username },
      body: JSON.stringify({ username, password: ADMIN_PASSWORD, ...(totp ? { totp } : {}) }),
    });

  it('an authenticator code is accepted once: the same code again is refused', async () => {
    const { secret } = await operatorWithTotp('tess');
    const next = currentTotp(secret, Date.now() + 30_000);
    assert.equal((await login('tess', next)).status, 200);
    const replay = await login('tess', next);
    assert.equal(replay.status, 401);
    assert.equal((await replay.json()).code, 'SECOND_FACTOR_REQUIRED');
  });

  it('an administrator resets a lost second factor; the operator logs in with the password alone', async () => {
    const { id } = await operatorWithTotp('lost-phone');
    assert.equal((await login('lost-phone')).status, 401);
    const reset = await cp.app.request(`/api/operators/${id}`, {
      method: 'PATCH',
      headers: { cookie: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ resetSecondFactor: true }),
    });
    assert.equal(reset.status, 200);
    assert.equal((await reset.json()).totpEnabled, false);
    assert.equal((await login('lost-phone')).status, 200);
  });

  it('an invitation whose code expired before any agent came is ended as code-expired', async () => {
    const created = await (await cp.app.request('/api/sessions', json(admin, {}))).json();
    const agentSession = await registerAgent(cp.app);
    const past = new Date(Date.now() - 1000);
    for (const id of [created.session.id, agentSession.sessionId]) {
      await cp.services.db.update(sessions).set({ codeExpiresAt: past }).where(eq(sessions.id, id));
    }
    await cp.services.db
      .update(sessions)
      .set({ agentConnectedAt: new Date() })
      .where(eq(sessions.id, agentSession.sessionId));
    const ended = await cp.services.store.expireUnclaimed();
    assert.deepEqual(ended, [created.session.id], 'only the invitation nobody took up');
    const view = await (
      await cp.app.request(`/api/sessions/${created.session.id}`, { headers: { cookie: admin } })
    ).json();
    assert.equal(view.status, 'ended');
    assert.equal(view.endReason, 'code-expired');
  });
});

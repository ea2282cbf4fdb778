import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { currentTotp } from '../../control-plane/auth/totp.ts';
import { sessions } from '../../control-plane/db/schema.ts';
import { apiClient, assertProblem, freshAddress } from '../support/api.ts';
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

describe('guess limits an attacker cannot turn against the account holder', () => {
  let cp: TestControlPlane;
  let admin: string;
  before(async () => {
    cp = await startControlPlane();
    admin = await loginCookie(cp.app);
  });
  after(() => cp.stop());

  async function createOperator(username: string): Promise<string> {
    const api = apiClient(cp);
    const organisationId = (await (await api.get('/api/organisations', { cookie: admin })).json()).items[0]
      .id;
    const created = await api.post(
      '/api/operators',
      { cookie: admin },
      { username, name: username, password: ADMIN_PASSWORD, role: 'technician', organisationId },
    );
    assert.equal(created.status, 201);
    return (await created.json()).id;
  }

  const login = (
    username: string,
    password: string,
    address: string,
    options: { device?: string; totp?: string } = {},
  ) =>
    apiClient(cp).post(
      '/api/auth/login',
      undefined,
      { username, password, ...(options.totp ? { totp: options.totp } : {}) },
      { address, headers: options.device ? { cookie: options.device } : {} },
    );

  /** The device cookie a response set, whole (`name=value; attributes`), or an empty string. */
  function deviceCookieOf(response: Response): string {
    return response.headers.getSetCookie().find((cookie) => cookie.startsWith('lifeline_device=')) ?? '';
  }

  it('a successful login marks the browser with an HttpOnly, SameSite=Strict device cookie for the login path', async () => {
    await createOperator('marked');
    const header = deviceCookieOf(await login('marked', ADMIN_PASSWORD, freshAddress()));
    assert.match(header, /^lifeline_device=[\w-]+\.[\w-]+\.[\w-]+;/);
    assert.match(header, /; HttpOnly(;|$)/);
    assert.match(header, /; SameSite=Strict(;|$)/);
    assert.match(header, /; Path=\/api\/auth(;|$)/);
  });

  it('wrong passwords from other addresses do not lock the rightful user out', async () => {
    await createOperator('victim');
    const home = freshAddress();
    const first = await login('victim', ADMIN_PASSWORD, home);
    assert.equal(first.status, 200);
    const device = deviceCookieOf(first).split(';')[0]!;

    // Someone else keeps trying the account from many addresses.
    const attempts: number[] = [];
    for (let address = 0; address < 12; address++) {
      const attacker = freshAddress();
      for (let i = 0; i < 3; i++)
        attempts.push((await login('victim', `guess ${address}.${i}`, attacker)).status);
    }
    assert.ok(
      attempts.every((status) => status === 401 || status === 429),
      attempts.join(' '),
    );
    assert.ok(attempts.filter((status) => status === 401).length <= 6, 'the account delays new addresses');
    // Guessing stays expensive: a new address is refused before its password is even checked.
    await assertProblem(await login('victim', ADMIN_PASSWORD, freshAddress()), 429, 'TOO_FREQUENT');

    // The rightful user's browser, at home or elsewhere, and their usual address without the cookie.
    assert.equal((await login('victim', ADMIN_PASSWORD, home, { device })).status, 200);
    assert.equal((await login('victim', ADMIN_PASSWORD, freshAddress(), { device })).status, 200);
    assert.equal((await login('victim', ADMIN_PASSWORD, home)).status, 200);
  });

  it('a device cookie of one account is no proof for another', async () => {
    await createOperator('holder');
    await createOperator('target');
    const response = await login('holder', ADMIN_PASSWORD, freshAddress());
    const device = deviceCookieOf(response).split(';')[0]!;
    assert.ok(device, 'the holder has a device cookie');
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await login('target', `guess ${i}`, freshAddress(), { device })).status);
    }
    assert.ok(
      statuses.includes(429),
      `another account's device cookie lifted the delays: ${statuses.join(' ')}`,
    );
  });

  it('wrong authenticator codes are throttled per account, and a right password in between does not clear them', async () => {
    await createOperator('second');
    const cookie = await loginCookie(cp.app, 'second', ADMIN_PASSWORD);
    const api = apiClient(cp);
    const { secret } = await (await api.post('/api/auth/totp/setup', { cookie }, {})).json();
    assert.equal(
      (await api.post('/api/auth/totp/enable', { cookie }, { code: currentTotp(secret) })).status,
      200,
    );
    const valid = [-30_000, 0, 30_000].map((offset) => currentTotp(secret, Date.now() + offset));
    let n = 0;
    const wrong = () => {
      let code: string;
      do code = String(100_000 + ((n++ * 104_729) % 900_000));
      while (valid.includes(code));
      return code;
    };

    for (let i = 0; i < 3; i++) {
      const response = await login('second', ADMIN_PASSWORD, freshAddress(), { totp: wrong() });
      await assertProblem(response, 401, 'SECOND_FACTOR_REQUIRED');
    }
    // The right password alone: asked for the code, and the count of wrong codes stays.
    await assertProblem(await login('second', ADMIN_PASSWORD, freshAddress()), 401, 'SECOND_FACTOR_REQUIRED');
    await assertProblem(
      await login('second', ADMIN_PASSWORD, freshAddress(), { totp: wrong() }),
      401,
      'SECOND_FACTOR_REQUIRED',
    );
    // Now even the right code waits, from any address: the delay is the account's.
    const next = currentTotp(secret, Date.now() + 30_000);
    const refused = await login('second', ADMIN_PASSWORD, freshAddress(), { totp: next });
    const problem = await assertProblem(refused, 429, 'TOO_FREQUENT');
    assert.match(problem.detail, /authenticator/);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { currentTotp } from '../../control-plane/auth/totp.ts';
import { sessions } from '../../control-plane/db/schema.ts';
import { apiClient, assertProblem, freshAddress, whoAmI } from '../support/api.ts';
import {
  ADMIN_PASSWORD,
  loginCookie,
  registerAgent,
  startControlPlane,
  type TestControlPlane,
} from '../support/control-plane.ts';
import { started } from '../support/started.ts';

/**
 * Registers a control plane for the calling `describe` with its administrator signed in (`admin`, a
 * cookie); `addTechnician` adds a technician with the password `ADMIN_PASSWORD` to its organisation.
 */
function usePlane() {
  let cp: TestControlPlane | undefined;
  let admin: string | undefined;
  before(async () => {
    cp = await startControlPlane();
    admin = await loginCookie(cp.app);
  });
  after(() => cp?.stop());
  return {
    get cp() {
      return started(cp, 'the control plane');
    },
    get admin() {
      return started(admin, 'the administrator');
    },
    /** The new technician's id. */
    async addTechnician(username: string): Promise<string> {
      const api = apiClient(this.cp);
      const { organisationId } = await whoAmI(api, { cookie: this.admin });
      const created = await api.post(
        '/api/operators',
        { cookie: this.admin },
        { username, name: username, password: ADMIN_PASSWORD, role: 'technician', organisationId },
      );
      assert.equal(created.status, 201);
      return (await created.json()).id;
    },
  };
}

describe('second factor and expired invitations', () => {
  const plane = usePlane();

  const json = (cookie: string, body: unknown) => ({
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

  async function operatorWithTotp(username: string) {
    const id = await plane.addTechnician(username);
    const cookie = await loginCookie(plane.cp.app, username, ADMIN_PASSWORD);
    const { secret } = await (await plane.cp.app.request('/api/auth/totp/setup', json(cookie, {}))).json();
    const enable = await plane.cp.app.request(
      '/api/auth/totp/enable',
      json(cookie, { code: currentTotp(secret) }),
    );
    assert.equal(enable.status, 200);
    return { id, secret };
  }

  const login = (username: string, totp?: string) =>
    plane.cp.app.request('/api/auth/login', {
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
    const reset = await plane.cp.app.request(`/api/operators/${id}`, {
      method: 'PATCH',
      headers: { cookie: plane.admin, 'content-type': 'application/json' },
      body: JSON.stringify({ resetSecondFactor: true }),
    });
    assert.equal(reset.status, 200);
    assert.equal((await reset.json()).totpEnabled, false);
    assert.equal((await login('lost-phone')).status, 200);
  });

  it('an invitation whose code expired before any agent came is ended as code-expired', async () => {
    const created = await (await plane.cp.app.request('/api/sessions', json(plane.admin, {}))).json();
    const agentSession = await registerAgent(plane.cp.app);
    const past = new Date(Date.now() - 1000);
    for (const id of [created.session.id, agentSession.sessionId]) {
      await plane.cp.services.db.update(sessions).set({ codeExpiresAt: past }).where(eq(sessions.id, id));
    }
    await plane.cp.services.db
      .update(sessions)
      .set({ agentConnectedAt: new Date() })
      .where(eq(sessions.id, agentSession.sessionId));
    const ended = await plane.cp.services.store.expireUnclaimed();
    assert.deepEqual(ended, [created.session.id], 'only the invitation nobody took up');
    const view = await (
      await plane.cp.app.request(`/api/sessions/${created.session.id}`, { headers: { cookie: plane.admin } })
    ).json();
    assert.equal(view.status, 'ended');
    assert.equal(view.endReason, 'code-expired');
  });
});

describe('guess limits an attacker cannot turn against the account holder', () => {
  const plane = usePlane();

  const login = (
    username: string,
    password: string,
    address: string,
    options: { device?: string; totp?: string } = {},
  ) =>
    apiClient(plane.cp).post(
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
    await plane.addTechnician('marked');
    const header = deviceCookieOf(await login('marked', ADMIN_PASSWORD, freshAddress()));
    assert.match(header, /^lifeline_device=[\w-]+\.[\w-]+\.[\w-]+;/);
    assert.match(header, /; HttpOnly(;|$)/);
    assert.match(header, /; SameSite=Strict(;|$)/);
    assert.match(header, /; Path=\/api\/auth(;|$)/);
  });

  it('wrong passwords from other addresses do not lock the rightful user out', async () => {
    await plane.addTechnician('victim');
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
    await plane.addTechnician('holder');
    await plane.addTechnician('target');
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
    await plane.addTechnician('second');
    const cookie = await loginCookie(plane.cp.app, 'second', ADMIN_PASSWORD);
    const api = apiClient(plane.cp);
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

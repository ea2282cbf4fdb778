import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { ConfigError, loadConfig } from '../../control-plane/config.ts';
import { auditEvents } from '../../control-plane/db/schema.ts';
import { ANONYMOUS_CODE_BUDGET } from '../../control-plane/throttle/guess-limits.ts';
import {
  type ApiClient,
  apiClient,
  assertProblem,
  createOperator,
  expectJson,
  freshAddress,
  registeredAgent,
} from '../support/api.ts';
import {
  loginCookie,
  registerAgent,
  startControlPlane,
  type TestControlPlane,
} from '../support/control-plane.ts';
import { RelayClient, relayUrl } from './relay-client.ts';

/** `count` nine-digit codes that are none of `live`. */
function wrongCodes(count: number, live: string[]): string[] {
  const codes: string[] = [];
  for (let n = 123_456_789; codes.length < count; n += 7_919) {
    const code = String(n % 10 ** 9).padStart(9, '0');
    if (!live.includes(code)) codes.push(code);
  }
  return codes;
}

describe('guess limits', () => {
  let cp: TestControlPlane | undefined;
  afterEach(async () => {
    await cp?.stop();
    cp = undefined;
  });

  async function start(env: Record<string, string> = {}, listen = false) {
    cp = await startControlPlane({ env, listen });
    const api = apiClient(cp);
    const admin = { cookie: await loginCookie(cp.app) };
    return { cp, api, admin };
  }

  /** An operator-first session: the code an operator gives an end user to type into the agent. */
  async function invitation(api: ApiClient, admin: { cookie: string }): Promise<string> {
    return (await expectJson<{ code: string }>(await api.post('/api/sessions', admin, {}), 201)).code;
  }

  const join = (api: ApiClient, code: string, address: string, headers: Record<string, string> = {}) =>
    api.post('/api/agent/join', undefined, { name: 'agent', version: '1', code }, { address, headers });

  /** Wrong codes typed by agents, five from each fresh address (within every per-address allowance). */
  async function flood(api: ApiClient, codes: string[]): Promise<Response[]> {
    const responses: Response[] = [];
    let address = freshAddress();
    for (const [i, code] of codes.entries()) {
      if (i % 5 === 0) address = freshAddress();
      responses.push(await join(api, code, address));
    }
    return responses;
  }

  it('two hundred wrong codes from many addresses refuse neither an operator redeeming nor an agent joining', async () => {
    const { api, admin } = await start();
    const invited = await invitation(api, admin);
    const registered = await registerAgent(cp!.app);
    const responses = await flood(api, wrongCodes(210, [invited, registered.code]));
    assert.deepEqual(new Set(responses.map((response) => response.status)), new Set([404]));

    const redeemed = await api.post('/api/sessions/redeem', admin, { code: registered.code });
    assert.equal(redeemed.status, 200, await redeemed.clone().text());
    const joined = await join(api, invited, freshAddress());
    assert.equal(joined.status, 200, await joined.clone().text());
  });

  it('anonymous guessing that has spent its shared budget is refused, while operators still redeem and agents still register', async () => {
    const { api, admin } = await start();
    const invited = await invitation(api, admin);
    const registered = await registerAgent(cp!.app);
    const codes = wrongCodes(ANONYMOUS_CODE_BUDGET.capacity + 20, [invited, registered.code]);
    const statuses = (await flood(api, codes)).map((response) => response.status);
    const refusedAt = statuses.indexOf(429);
    assert.ok(
      refusedAt >= 0 && refusedAt <= ANONYMOUS_CODE_BUDGET.capacity,
      `refused after ${refusedAt} wrong codes from ${Math.ceil(codes.length / 5)} addresses`,
    );
    // An operator's redemption is not an anonymous guess; an agent that registers is not guessing.
    assert.equal((await api.post('/api/sessions/redeem', admin, { code: registered.code })).status, 200);
    // Spent: even the right code is not looked at from a new address, and the wait is long.
    const refused = await join(api, invited, freshAddress());
    const problem = await assertProblem(refused, 429, 'TOO_FREQUENT');
    assert.match(problem.detail, /paused/);
    assert.ok(Number(refused.headers.get('retry-after')) > 60);
    const fresh = await registeredAgent(api, { name: 'a', version: '1' });
    assert.equal((await api.post('/api/sessions/redeem', admin, { code: fresh.code })).status, 200);
  });

  it("an operator's wrong codes slow that operator wherever they come from, and no one else at that address", async () => {
    const { api, admin } = await start();
    const organisationId = (
      await expectJson<{ items: { id: string }[] }>(await api.get('/api/organisations', admin), 200)
    ).items[0]!.id;
    const { cookie } = await createOperator(api, admin, {
      username: 'guesser',
      role: 'technician',
      organisationId,
    });
    const registered = await registerAgent(cp!.app);
    const office = freshAddress();
    const statuses: number[] = [];
    for (const code of wrongCodes(13, [registered.code])) {
      statuses.push(
        (await api.post('/api/sessions/redeem', { cookie }, { code }, { address: office })).status,
      );
    }
    // Ten free (a script may have ten in flight), the eleventh starts the first delay.
    assert.deepEqual(statuses, [...Array<number>(11).fill(404), 429, 429]);
    const elsewhere = await api.post(
      '/api/sessions/redeem',
      { cookie },
      { code: registered.code },
      { address: freshAddress() },
    );
    await assertProblem(elsewhere, 429, 'TOO_FREQUENT');
    const colleague = await api.post(
      '/api/sessions/redeem',
      admin,
      { code: registered.code },
      { address: office },
    );
    assert.equal(colleague.status, 200);
  });

  it('an operator may have ten redemptions in flight at once, and a right code does not wipe wrong ones', async () => {
    const { api, admin } = await start();
    const codes = await Promise.all(
      Array.from({ length: 10 }, async () => (await registerAgent(cp!.app)).code),
    );
    const statuses = await Promise.all(
      codes.map(async (code) => (await api.post('/api/sessions/redeem', admin, { code })).status),
    );
    assert.deepEqual(statuses, Array<number>(10).fill(200));
    const wrong = wrongCodes(11, codes);
    for (const code of wrong.slice(0, 10)) await api.post('/api/sessions/redeem', admin, { code });
    // Right after ten wrong: accepted, but the ten still count, so one more wrong code starts a delay.
    const between = (await registerAgent(cp!.app)).code;
    assert.equal((await api.post('/api/sessions/redeem', admin, { code: between })).status, 200);
    await assertProblem(
      await api.post('/api/sessions/redeem', admin, { code: wrong[10]! }),
      404,
      'CODE_INVALID',
    );
    const right = (await registerAgent(cp!.app)).code;
    await assertProblem(await api.post('/api/sessions/redeem', admin, { code: right }), 429, 'TOO_FREQUENT');
  });

  it('IPv6 clients are throttled by their /64', async () => {
    const { api, admin } = await start();
    const invited = await invitation(api, admin);
    const codes = wrongCodes(8, [invited]);
    const statuses: number[] = [];
    for (const [i, code] of codes.slice(0, 7).entries()) {
      statuses.push((await join(api, code, `2001:db8:1:2:${(i + 1).toString(16)}::${i + 7}`)).status);
    }
    assert.deepEqual(
      statuses,
      [404, 404, 404, 404, 404, 404, 429],
      'seven addresses of one /64 are one client',
    );
    await assertProblem(await join(api, invited, '2001:db8:1:2:ffff:ffff:ffff:ffff'), 429, 'TOO_FREQUENT');
    await assertProblem(await join(api, codes[7]!, '2001:db8:1:3::1'), 404, 'CODE_INVALID');
    assert.equal((await join(api, invited, '2001:db8:1:3::2')).status, 200);
  });

  describe('behind a reverse proxy', () => {
    const PROXIES = { LIFELINE_TRUSTED_PROXIES: '10.9.0.0/16, 2001:db8:ffff::1' };

    async function failedLoginAddress(cp: TestControlPlane, username: string) {
      const rows = await cp.services.db
        .select()
        .from(auditEvents)
        .where(eq(auditEvents.action, 'auth.login-failed'));
      // Unknown usernames are recorded as a keyed hash (a password may have been typed there).
      const hash = cp.services.pseudonym(username);
      return rows.find((row) => (row.details as { usernameHash?: string } | null)?.usernameHash === hash)
        ?.address;
    }

    it('the client is the rightmost untrusted X-Forwarded-For hop when the peer is a trusted proxy, and the peer otherwise', async () => {
      const { cp, api } = await start(PROXIES);
      const tryLogin = (username: string, address: string, forwardedFor: string) =>
        api.post(
          '/api/auth/login',
          undefined,
          { username, password: 'not the password' },
          { address, headers: { 'x-forwarded-for': forwardedFor } },
        );
      // The client wrote the first hop itself; the proxies appended the others.
      await tryLogin('via-proxy', '10.9.0.5', '198.51.100.1, 203.0.113.9, 10.9.0.7');
      assert.equal(await failedLoginAddress(cp, 'via-proxy'), '203.0.113.9');
      await tryLogin('via-v6-proxy', '2001:db8:ffff::1', '2001:db8:42::7');
      assert.equal(await failedLoginAddress(cp, 'via-v6-proxy'), '2001:db8:42::7');
      await tryLogin('direct', '192.0.2.5', '203.0.113.50');
      assert.equal(await failedLoginAddress(cp, 'direct'), '192.0.2.5');
    });

    it('throttles follow the forwarded client, so one client behind the proxy does not slow another', async () => {
      const { api, admin } = await start(PROXIES);
      const invited = await invitation(api, admin);
      const codes = wrongCodes(8, [invited]);
      const viaProxy = (code: string, client: string) =>
        join(api, code, '10.9.0.5', { 'x-forwarded-for': client });
      const statuses: number[] = [];
      for (const code of codes.slice(0, 7)) statuses.push((await viaProxy(code, '203.0.113.1')).status);
      assert.deepEqual(statuses, [404, 404, 404, 404, 404, 404, 429]);
      await assertProblem(await viaProxy(codes[7]!, '203.0.113.2'), 404, 'CODE_INVALID');
      // A forged header sent straight to the server changes nothing: the peer is the client.
      const direct = '192.0.2.9';
      for (const [i, code] of codes.slice(0, 6).entries()) {
        await join(api, code, direct, { 'x-forwarded-for': `198.51.100.${i}` });
      }
      await assertProblem(
        await join(api, codes[6]!, direct, { 'x-forwarded-for': '198.51.100.200' }),
        429,
        'TOO_FREQUENT',
      );
    });

    it('the relay logs the forwarded client of a WebSocket upgrade from a trusted proxy', async () => {
      const logs: string[] = [];
      cp = await startControlPlane({ listen: true, logs, env: { LIFELINE_TRUSTED_PROXIES: '127.0.0.1' } });
      const registration = await registerAgent(cp.app);
      const agent = await RelayClient.connect(relayUrl(cp), {
        headers: { 'x-forwarded-for': '203.0.113.77' },
        hello: { role: 'agent', token: registration.relay.token },
      });
      await agent.next('welcome');
      await agent.close();
      const connect = logs
        .map((line) => JSON.parse(line) as { event?: string; role?: string; address?: string })
        .find((entry) => entry.event === 'connect' && entry.role === 'agent');
      assert.equal(connect?.address, '203.0.113.77');
    });

    it('a LIFELINE_TRUSTED_PROXIES entry that is not an address or CIDR stops the start with its name', () => {
      for (const value of ['10.0.0.0/33', 'proxy.example', '10.0.0.1/8/2', '2001:db8::/129']) {
        assert.throws(
          () => loadConfig({ LIFELINE_TRUSTED_PROXIES: `10.0.0.1, ${value}` }),
          (error: unknown) =>
            error instanceof ConfigError &&
            error.message.includes('LIFELINE_TRUSTED_PROXIES') &&
            error.message.includes(value),
        );
      }
      assert.deepEqual(loadConfig({ LIFELINE_TRUSTED_PROXIES: ' 10.0.0.0/8 ,::1' }).trustedProxies, [
        '10.0.0.0/8',
        '::1',
      ]);
    });
  });
});

import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { count, eq } from 'drizzle-orm';
import type { JWK } from 'jose';
import { apiTokens, auditEvents, sessions } from '../../control-plane/db/schema.ts';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  loginCookie,
  registerAgent,
  startControlPlane,
  type TestControlPlane,
} from '../support/control-plane.ts';

/** Every secret the flows below handle; none may reach the audit table or the log. */
const secrets = new Set<string>([ADMIN_PASSWORD]);

/** The Node bindings `getConnInfo` reads, so each test can speak from its own client address. */
function from(address: string) {
  return { incoming: { socket: { remoteAddress: address, remotePort: 40_000, remoteFamily: 'IPv4' } } };
}

let addresses = 0;
/** A client address no other test used, so throttles of one test never touch another. */
function freshAddress(): string {
  addresses++;
  return `10.0.${addresses >> 8}.${addresses & 0xff}`;
}

interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
}

/** Asserts the API's one error shape and returns it. */
async function assertProblem(response: Response, status: number, code: string): Promise<Problem> {
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  const body = (await response.json()) as Problem;
  assert.equal(response.status, status, `${body.code}: ${body.detail}`);
  assert.deepEqual(Object.keys(body).sort(), ['code', 'detail', 'status', 'title', 'type']);
  assert.equal(body.status, status);
  assert.equal(body.code, code);
  assert.equal(body.type, `https://lifeline.invalid/problems/${code.toLowerCase().replaceAll('_', '-')}`);
  assert.ok(body.title.length > 0 && body.detail.length > 0);
  return body;
}

describe('HTTP API', () => {
  const logs: string[] = [];
  let cp: TestControlPlane;
  let cookie: string;

  function post(path: string, body: unknown, headers: Record<string, string> = {}, address = 'local') {
    return cp.app.request(
      path,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      },
      address === 'local' ? undefined : from(address),
    );
  }

  function get(path: string, headers: Record<string, string> = {}) {
    return cp.app.request(path, { headers });
  }

  async function login(username = ADMIN_USERNAME, password = ADMIN_PASSWORD, address = freshAddress()) {
    secrets.add(password);
    return post('/api/auth/login', { username, password }, {}, address);
  }

  async function register() {
    const registration = await registerAgent(cp.app);
    secrets.add(registration.code);
    secrets.add(registration.displayCode);
    secrets.add(registration.relay.token);
    return registration;
  }

  async function redeem(
    code: string,
    headers: Record<string, string> = { cookie },
    address = freshAddress(),
  ) {
    return post('/api/sessions/redeem', { code }, headers, address);
  }

  async function createToken(scopes: string[], name = 'script') {
    const response = await post('/api/tokens', { name, scopes }, { cookie });
    assert.equal(response.status, 201);
    const body = (await response.json()) as { id: string; token: string; scopes: string[] };
    secrets.add(body.token);
    return body;
  }

  before(async () => {
    cp = await startControlPlane({ logs });
    cookie = await loginCookie(cp.app);
    secrets.add(cookie.split('=')[1]!);
  });

  after(async () => {
    await cp.stop();
  });

  describe('login', () => {
    it('a correct login sets an HttpOnly, SameSite=Strict session cookie and names the operator, its scopes and expiry', async () => {
      const response = await login();
      assert.equal(response.status, 200);
      const setCookie = response.headers.get('set-cookie') ?? '';
      secrets.add(setCookie.split(';')[0]!.split('=')[1]!);
      assert.match(setCookie, /^lifeline_session=[\w-]+\.[\w-]+\.[\w-]+;/);
      assert.match(setCookie, /; HttpOnly(;|$)/);
      assert.match(setCookie, /; SameSite=Strict(;|$)/);
      assert.match(setCookie, /; Path=\/(;|$)/);
      const body = (await response.json()) as {
        operator: { username: string; role: string };
        scopes: string[];
        expiresAt: string;
      };
      assert.equal(body.operator.username, ADMIN_USERNAME);
      assert.equal(body.operator.role, 'admin');
      // The login says what it may do and until when, as /auth/me does.
      assert.ok(body.scopes.includes('admin') && body.scopes.includes('exec'), body.scopes.join(' '));
      assert.ok(Date.parse(body.expiresAt) > Date.now());
      const shown = JSON.stringify(body.operator);
      assert.ok(!/password|hash|secret|scrypt/i.test(shown), `the operator view holds a secret: ${shown}`);
    });

    it('a wrong password is refused with 401 UNAUTHENTICATED and no cookie', async () => {
      const response = await login(ADMIN_USERNAME, 'wrong password, nice try');
      assert.equal(response.headers.get('set-cookie'), null);
      await assertProblem(response, 401, 'UNAUTHENTICATED');
    });

    it('an unknown username is refused exactly like a wrong password', async () => {
      const unknown = await assertProblem(
        await login('nobody-here', 'whatever-password'),
        401,
        'UNAUTHENTICATED',
      );
      const wrong = await assertProblem(
        await login(ADMIN_USERNAME, 'another wrong one'),
        401,
        'UNAUTHENTICATED',
      );
      assert.equal(unknown.detail, wrong.detail);
    });

    it('a login body that is not JSON, or lacks a field, is refused with 400 VALIDATION_FAILED', async () => {
      await assertProblem(
        await post('/api/auth/login', '{username:', {}, freshAddress()),
        400,
        'VALIDATION_FAILED',
      );
      const missing = await assertProblem(
        await post('/api/auth/login', { username: 'admin' }, {}, freshAddress()),
        400,
        'VALIDATION_FAILED',
      );
      assert.match(missing.detail, /^password:/);
    });

    it('GET /api/auth/me names the operator with the cookie and is refused without it', async () => {
      const me = await get('/api/auth/me', { cookie });
      assert.equal(me.status, 200);
      const body = (await me.json()) as { operator: { username: string }; via: string };
      assert.deepEqual([body.operator.username, body.via], [ADMIN_USERNAME, 'operator']);
      await assertProblem(await get('/api/auth/me'), 401, 'UNAUTHENTICATED');
      await assertProblem(
        await get('/api/auth/me', { cookie: 'lifeline_session=forged' }),
        401,
        'UNAUTHENTICATED',
      );
    });

    it('logging out clears the cookie, and replaying the old cookie afterwards is refused', async () => {
      const own = await loginCookie(cp.app);
      secrets.add(own.split('=')[1]!);
      assert.equal((await get('/api/auth/me', { cookie: own })).status, 200);
      const logout = await post('/api/auth/logout', {}, { cookie: own });
      assert.equal(logout.status, 204);
      assert.match(logout.headers.get('set-cookie') ?? '', /^lifeline_session=;.*Max-Age=0/);
      await assertProblem(await get('/api/auth/me', { cookie: own }), 401, 'UNAUTHENTICATED');
      await assertProblem(await post('/api/auth/logout', {}, { cookie: own }), 401, 'UNAUTHENTICATED');
      // Other logins of the same operator are not affected.
      assert.equal((await get('/api/auth/me', { cookie })).status, 200);
    });

    /** Wrong logins one after the other until one is refused; returns how many were checked and the refusal. */
    async function guessUntilThrottled(username: (attempt: number) => string, address: () => string) {
      for (let attempt = 1; attempt <= 20; attempt++) {
        const response = await login(username(attempt), `not the password ${attempt}`, address());
        if (response.status === 429) return { checked: attempt - 1, refusal: response };
        await assertProblem(response, 401, 'UNAUTHENTICATED');
      }
      return assert.fail('never throttled');
    }

    it('after the free failures, logins from an address get 429 TOO_FREQUENT with Retry-After', async () => {
      const address = freshAddress();
      const { checked, refusal } = await guessUntilThrottled(
        (attempt) => `guesser-${attempt}`,
        () => address,
      );
      assert.ok(checked >= 5 && checked <= 6, `5 failures are free; refused after ${checked}`);
      const retryAfter = Number(refusal.headers.get('retry-after'));
      assert.ok(retryAfter >= 1, `Retry-After ${retryAfter}`);
      const problem = await assertProblem(refusal, 429, 'TOO_FREQUENT');
      assert.match(problem.detail, new RegExp(`${retryAfter} s`));
      // While the address waits, even the right password is not checked; other addresses go on.
      await assertProblem(await login(ADMIN_USERNAME, ADMIN_PASSWORD, address), 429, 'TOO_FREQUENT');
      assert.equal((await login(ADMIN_USERNAME, ADMIN_PASSWORD, freshAddress())).status, 200);
    });

    it('guessing one username from many addresses is throttled too', async () => {
      const { checked } = await guessUntilThrottled(() => 'ghost', freshAddress);
      assert.ok(checked >= 5 && checked <= 6, `refused after ${checked} guesses at one username`);
    });

    // Regression: failures were counted only after the slow hash, so a burst bypassed the throttle.
    it('wrong logins sent all at once are counted before their passwords are hashed', async () => {
      const address = freshAddress();
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) => login(`burst-${i}`, 'not the password', address)),
      );
      const checked = responses.filter((response) => response.status === 401).length;
      assert.ok(checked <= 6, `${checked} of 8 concurrent guesses had their password checked`);
    });

    it('a login from a foreign Origin is refused with 403 FORBIDDEN', async () => {
      const response = await post(
        '/api/auth/login',
        { username: ADMIN_USERNAME, password: ADMIN_PASSWORD },
        { origin: 'https://evil.example' },
        freshAddress(),
      );
      await assertProblem(response, 403, 'FORBIDDEN');
      assert.equal(response.headers.get('set-cookie'), null);
    });
  });

  describe('cross-origin requests', () => {
    it('a cookie-authenticated POST from a foreign origin is refused with 403 FORBIDDEN', async () => {
      const { code } = await register();
      for (const origin of ['https://evil.example', 'null', 'http://127.0.0.1:8081']) {
        await assertProblem(await redeem(code, { cookie, origin }), 403, 'FORBIDDEN');
      }
      // Refused before anything happened: the code is still unused.
      assert.equal((await redeem(code, { cookie, origin: cp.url })).status, 200);
    });

    it('a logout forged from a foreign origin does not log the operator out', async () => {
      await assertProblem(
        await post('/api/auth/logout', {}, { cookie, origin: 'https://evil.example' }),
        403,
        'FORBIDDEN',
      );
      assert.equal((await get('/api/auth/me', { cookie })).status, 200);
    });
  });

  describe('API tokens', () => {
    it('an admin creates a token that is shown once, with the llt_ prefix, and listed without it', async () => {
      const created = await createToken(['sessions:read'], 'listing');
      assert.match(created.token, /^llt_[\w-]{43}$/);
      const list = await get('/api/tokens', { cookie });
      assert.equal(list.status, 200);
      const text = await list.text();
      assert.ok(!text.includes(created.token), 'the list does not show the token');
      assert.ok(!text.includes('tokenHash'), 'nor its hash');
      const { items } = JSON.parse(text) as { items: { id: string; name: string }[] };
      assert.equal(items.find((item) => item.id === created.id)?.name, 'listing');
    });

    it('a bearer token authenticates GET /api/sessions', async () => {
      const { token } = await createToken(['sessions:read']);
      const response = await get('/api/sessions', { authorization: `Bearer ${token}` });
      assert.equal(response.status, 200);
      assert.ok(Array.isArray(((await response.json()) as { items: unknown[] }).items));
      const me = (await (await get('/api/auth/me', { authorization: `Bearer ${token}` })).json()) as {
        via: string;
      };
      assert.equal(me.via, 'api-token');
    });

    it('a token without sessions:write cannot redeem a code (403 FORBIDDEN), one with it can', async () => {
      const { code } = await register();
      const reader = await createToken(['sessions:read']);
      await assertProblem(await redeem(code, { authorization: `Bearer ${reader.token}` }), 403, 'FORBIDDEN');
      const writer = await createToken(['sessions:write']);
      assert.equal((await redeem(code, { authorization: `Bearer ${writer.token}` })).status, 200);
    });

    it('a token without the admin scope cannot create tokens', async () => {
      const { token } = await createToken(['sessions:read', 'sessions:write']);
      await assertProblem(
        await post(
          '/api/tokens',
          { name: 'escalate', scopes: ['admin'] },
          { authorization: `Bearer ${token}` },
        ),
        403,
        'FORBIDDEN',
      );
    });

    it('a revoked token is refused with 401', async () => {
      const { id, token } = await createToken(['sessions:read']);
      assert.equal((await get('/api/sessions', { authorization: `Bearer ${token}` })).status, 200);
      const revoke = await cp.app.request(`/api/tokens/${id}`, {
        method: 'DELETE',
        headers: { cookie, origin: cp.url },
      });
      assert.equal(revoke.status, 204);
      await assertProblem(
        await get('/api/sessions', { authorization: `Bearer ${token}` }),
        401,
        'UNAUTHENTICATED',
      );
      await assertProblem(
        await cp.app.request(`/api/tokens/${id}`, { method: 'DELETE', headers: { cookie } }),
        404,
        'NOT_FOUND',
      );
    });

    it('a malformed or unknown Authorization header is refused with 401', async () => {
      for (const authorization of [
        'Basic YWRtaW46YWRtaW4=',
        'Bearer',
        'Bearer llt_unknown',
        'Bearer not-even-llt',
      ]) {
        await assertProblem(await get('/api/sessions', { authorization }), 401, 'UNAUTHENTICATED');
      }
      // A console JWT is not an API token, even in the right header.
      await assertProblem(
        await get('/api/sessions', { authorization: `Bearer ${cookie.split('=')[1]}` }),
        401,
        'UNAUTHENTICATED',
      );
    });

    it('a token is stored only as its SHA-256, never as itself', async () => {
      const { id, token } = await createToken(['sessions:read'], 'stored');
      const [row] = await cp.services.db.select().from(apiTokens).where(eq(apiTokens.id, id));
      assert.ok(row);
      assert.equal(row.tokenHash, createHash('sha256').update(token).digest('hex'));
      const everything = JSON.stringify(await cp.services.db.select().from(apiTokens));
      assert.ok(!everything.includes(token));
      assert.ok(!everything.includes(token.slice(4)), 'not even without its prefix');
      // Nor anywhere in the database files on disk (the database and its write-ahead log).
      for (const name of readdirSync(cp.dataDir)) {
        const bytes = readFileSync(join(cp.dataDir, name));
        assert.equal(bytes.includes(token.slice(4)), false, `${name} holds the raw token`);
      }
    });
  });

  describe('connection codes', () => {
    it('a registered agent’s code redeems, grouped or bare, to its session and a relay grant', async () => {
      for (const typed of [(r: { displayCode: string }) => r.displayCode, (r: { code: string }) => r.code]) {
        const registration = await register();
        assert.match(registration.displayCode, /^\d{3} \d{3} \d{3}$/);
        const response = await redeem(typed(registration));
        assert.equal(response.status, 200);
        const body = (await response.json()) as {
          session: { id: string; status: string; operatorId: string };
          relay: { url: string; token: string };
        };
        secrets.add(body.relay.token);
        assert.equal(body.session.id, registration.sessionId);
        assert.equal(body.session.status, 'waiting');
        assert.equal(body.relay.url, `${cp.url.replace(/^http/, 'ws')}/ws`);
        const claims = await cp.services.tokens.verify('relayOperator', body.relay.token);
        assert.equal(claims.sid, registration.sessionId);
        assert.equal(claims.sub, body.session.operatorId);
      }
    });

    it('a code typed with dashes or dots redeems too', async () => {
      const { code } = await register();
      const response = await redeem(`${code.slice(0, 3)}-${code.slice(3, 6)}.${code.slice(6)}`);
      assert.equal(response.status, 200);
    });

    it('a wrong code is refused with 404 CODE_INVALID', async () => {
      const { code } = await register();
      const wrong = String((Number(code) + 1) % 10 ** 9).padStart(9, '0');
      await assertProblem(await redeem(wrong), 404, 'CODE_INVALID');
      await assertProblem(await redeem('not a code'), 404, 'CODE_INVALID');
      assert.equal((await redeem(code)).status, 200, 'the right code still works');
    });

    it('a code used once is refused with 409 CODE_USED', async () => {
      const { code } = await register();
      assert.equal((await redeem(code)).status, 200);
      await assertProblem(await redeem(code), 409, 'CODE_USED');
    });

    it('an expired code is refused with 410 CODE_EXPIRED, and stays so', async () => {
      const { code, sessionId } = await register();
      await cp.services.db
        .update(sessions)
        .set({ codeExpiresAt: new Date(Date.now() - 1000) })
        .where(eq(sessions.id, sessionId));
      await assertProblem(await redeem(code), 410, 'CODE_EXPIRED');
      await assertProblem(await redeem(code), 410, 'CODE_EXPIRED');
      const [row] = await cp.services.db.select().from(sessions).where(eq(sessions.id, sessionId));
      assert.equal(row?.operatorId, null, 'an expired code claims nothing');
    });

    it('the code of an ended session is refused with 410 SESSION_ENDED', async () => {
      const { code, sessionId } = await register();
      assert.equal((await post(`/api/sessions/${sessionId}/end`, {}, { cookie })).status, 200);
      await assertProblem(await redeem(code), 410, 'SESSION_ENDED');
    });

    it('a malformed redemption body is refused with 400 VALIDATION_FAILED', async () => {
      const address = freshAddress();
      for (const body of [
        'not json',
        '{}',
        JSON.stringify({ code: 123456789 }),
        JSON.stringify({ code: '1'.repeat(65) }),
      ]) {
        const problem = await assertProblem(
          await post('/api/sessions/redeem', body, { cookie }, address),
          400,
          'VALIDATION_FAILED',
        );
        if (body !== 'not json') assert.match(problem.detail, /^code:/);
      }
    });

    it('wrong codes an agent types from one address are throttled with growing delays', async () => {
      const invitation = (await (await post('/api/sessions', {}, { cookie })).json()) as { code: string };
      secrets.add(invitation.code);
      const join = (code: string, address: string) =>
        post('/api/agent/join', { name: 'a', version: '1', code }, {}, address);
      const address = freshAddress();
      const wrong = String((Number(invitation.code) + 500_000) % 10 ** 9).padStart(9, '0');
      const guessUntilRefused = async () => {
        for (let attempt = 1; attempt <= 20; attempt++) {
          const response = await join(wrong, address);
          if (response.status === 429) {
            await assertProblem(response, 429, 'TOO_FREQUENT');
            return { attempt, retryAfter: Number(response.headers.get('retry-after')) };
          }
          await assertProblem(response, 404, 'CODE_INVALID');
        }
        return assert.fail('never throttled');
      };
      const first = await guessUntilRefused();
      assert.ok(first.attempt > 5, `5 wrong codes are free, refused at attempt ${first.attempt}`);
      assert.ok(first.retryAfter >= 1);
      // While throttled, a right code is not even looked at (and stays unused); other addresses go on.
      await assertProblem(await join(invitation.code, address), 429, 'TOO_FREQUENT');
      await assertProblem(await join(wrong, freshAddress()), 404, 'CODE_INVALID');

      await new Promise((resolve) => setTimeout(resolve, first.retryAfter * 1000 + 100));
      const second = await guessUntilRefused();
      assert.equal(second.attempt, 2, 'after the wait, one more wrong guess is refused at once');
      assert.ok(
        second.retryAfter > first.retryAfter,
        `delay grew: ${first.retryAfter} s → ${second.retryAfter} s`,
      );
      const joined = await join(invitation.code, freshAddress());
      assert.equal(joined.status, 200);
      secrets.add(((await joined.json()) as { relay: { token: string } }).relay.token);
    });

    it('registrations from one address past the free allowance get 429 TOO_FREQUENT', async () => {
      const address = freshAddress();
      const statuses: number[] = [];
      for (let i = 0; i < 40 && !statuses.includes(429); i++) {
        const response = await post('/api/agent/register', { name: 'a', version: '1' }, {}, address);
        statuses.push(response.status);
        if (response.status === 201) {
          const body = (await response.json()) as { code: string; relay: { token: string } };
          secrets.add(body.code);
          secrets.add(body.relay.token);
        } else {
          await assertProblem(response, 429, 'TOO_FREQUENT');
          assert.ok(Number(response.headers.get('retry-after')) >= 1);
        }
      }
      assert.ok(
        statuses.indexOf(429) >= 30,
        `30 registrations are free; refused at ${statuses.indexOf(429) + 1}`,
      );
    });
  });

  describe('sessions', () => {
    /** Follows `nextCursor` from the first page to the last and returns every session listed. */
    async function listAll(limit: number) {
      const seen: { id: string; createdAt: string }[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const response = await get(`/api/sessions?limit=${limit}${query}`, { cookie });
        assert.equal(response.status, 200);
        const page = (await response.json()) as {
          items: { id: string; createdAt: string }[];
          nextCursor: string | null;
        };
        assert.ok(page.items.length <= limit);
        seen.push(...page.items);
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 1000);
      assert.equal(new Set(seen.map((item) => item.id)).size, seen.length, 'no session listed twice');
      return seen;
    }

    it('sessions are listed newest first, a page at a time, each exactly once', async () => {
      const created: string[] = [];
      for (let i = 0; i < 5; i++) {
        created.push((await register()).sessionId);
        // Distinct milliseconds, so the order is defined; ties are tested below.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const seen = await listAll(2);
      for (const id of created)
        assert.ok(
          seen.some((item) => item.id === id),
          `${id} listed`,
        );
      assert.deepEqual(
        seen.filter((item) => created.includes(item.id)).map((item) => item.id),
        created.toReversed(),
        'newest first',
      );
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1]!.createdAt >= seen[i]!.createdAt);
      const [total] = await cp.services.db.select({ n: count() }).from(sessions);
      assert.equal(seen.length, total?.n, 'every session listed');
    });

    // Regression: the cursor was only createdAt, so rows sharing the last row's millisecond were skipped.
    it('sessions created in the same millisecond are not skipped between pages', async () => {
      const sameMillisecond = new Date(Date.now() - 60_000);
      const created: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { sessionId } = await register();
        await cp.services.db
          .update(sessions)
          .set({ createdAt: sameMillisecond })
          .where(eq(sessions.id, sessionId));
        created.push(sessionId);
      }
      const seen = await listAll(2);
      for (const id of created)
        assert.ok(
          seen.some((item) => item.id === id),
          `${id} listed`,
        );
    });

    it('the status filter lists only sessions in that state', async () => {
      const { sessionId } = await register();
      await post(`/api/sessions/${sessionId}/end`, {}, { cookie });
      const response = await get('/api/sessions?status=ended&limit=200', { cookie });
      const { items } = (await response.json()) as { items: { id: string; status: string }[] };
      assert.ok(items.some((item) => item.id === sessionId));
      assert.ok(items.every((item) => item.status === 'ended'));
    });

    it('a bad limit, cursor or status is refused with 400 VALIDATION_FAILED', async () => {
      for (const query of ['limit=0', 'limit=201', 'limit=two', 'cursor=yesterday', 'status=paused']) {
        await assertProblem(await get(`/api/sessions?${query}`, { cookie }), 400, 'VALIDATION_FAILED');
      }
    });

    it('POST /api/sessions/:id/end ends a session once; ending it again changes nothing', async () => {
      const { code, sessionId } = await register();
      assert.equal((await redeem(code)).status, 200);
      const first = await post(`/api/sessions/${sessionId}/end`, {}, { cookie });
      assert.equal(first.status, 200);
      const ended = (await first.json()) as { status: string; endReason: string; endedAt: string };
      assert.deepEqual([ended.status, ended.endReason], ['ended', 'operator-ended']);
      assert.ok(ended.endedAt);
      const again = (await (
        await post(`/api/sessions/${sessionId}/end`, {}, { cookie })
      ).json()) as typeof ended;
      assert.deepEqual(again, ended);
      const shown = (await (await get(`/api/sessions/${sessionId}`, { cookie })).json()) as typeof ended;
      assert.equal(shown.status, 'ended');
    });

    it('an unknown session is 404 SESSION_NOT_FOUND', async () => {
      await assertProblem(
        await post(`/api/sessions/${randomUUID()}/end`, {}, { cookie }),
        404,
        'SESSION_NOT_FOUND',
      );
      await assertProblem(await get(`/api/sessions/${randomUUID()}`, { cookie }), 404, 'SESSION_NOT_FOUND');
    });

    it('sessions are not listed without authentication', async () => {
      await assertProblem(await get('/api/sessions'), 401, 'UNAUTHENTICATED');
    });
  });

  describe('public endpoints', () => {
    it('/.well-known/jwks.json publishes the Ed25519 public key with its kid and no private part', async () => {
      const response = await get('/.well-known/jwks.json');
      assert.equal(response.status, 200);
      const { keys } = (await response.json()) as { keys: JWK[] };
      assert.ok(keys.length >= 1);
      for (const key of keys) {
        assert.deepEqual([key.kty, key.crv, key.alg, key.use], ['OKP', 'Ed25519', 'EdDSA', 'sig']);
        assert.ok(key.kid && key.x);
        assert.equal(key.d, undefined, 'no private key');
      }
      assert.ok(keys.some((key) => key.kid === cp.services.keys.current.kid));
    });

    it('/healthz answers ok with the protocol version', async () => {
      const response = await get('/healthz');
      assert.equal(response.status, 200);
      const body = (await response.json()) as { status: string; protocol: number };
      assert.deepEqual([body.status, body.protocol], ['ok', 1]);
    });

    it('an unknown route is a 404 problem document', async () => {
      const problem = await assertProblem(await get('/no/such/thing'), 404, 'NOT_FOUND');
      assert.match(problem.detail, /GET \/no\/such\/thing/);
      await assertProblem(await get('/api/nothing-here'), 404, 'NOT_FOUND');
      await assertProblem(await get('/api/auth/login'), 404, 'NOT_FOUND');
    });

    it('responses carry a content security policy that forbids framing', async () => {
      const csp = (await get('/healthz')).headers.get('content-security-policy') ?? '';
      assert.match(csp, /frame-ancestors 'none'/);
    });
  });

  describe('secrets', () => {
    it('no code, password or token reaches the audit table or the log', async () => {
      const rows = await cp.services.db.select().from(auditEvents);
      const actions = new Set(rows.map((row) => row.action));
      // The flows above were recorded, so the check below is not vacuous.
      for (const action of [
        'auth.login',
        'auth.login-failed',
        'auth.logout',
        'agent.register',
        'session.redeem',
        'session.redeem-failed',
        'token.create',
        'token.revoke',
      ]) {
        assert.ok(actions.has(action), `audited: ${action}`);
      }
      const audit = JSON.stringify(rows);
      const log = logs.join('\n');
      for (const action of actions) assert.ok(log.includes(`"audit":"${action}"`), `logged: ${action}`);
      assert.ok(secrets.size > 50, `${secrets.size} secrets checked`);
      for (const secret of secrets) {
        assert.ok(!audit.includes(secret), `the audit table holds a secret (${secret.slice(0, 6)}…)`);
        assert.ok(!log.includes(secret), `the log holds a secret (${secret.slice(0, 6)}…)`);
      }
    });
  });
});

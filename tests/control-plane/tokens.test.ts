import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  base64url,
  type CryptoKey,
  createLocalJWKSet,
  generateKeyPair,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import { isTokenError } from '../../control-plane/tokens/tokens.ts';
import { CloseCode, TOKEN_KINDS, type TokenKind } from '../../protocol/index.ts';
import {
  loginCookie,
  registerAgent,
  startControlPlane,
  type TestControlPlane,
} from '../support/control-plane.ts';
import { closeAll, connectAgent, connectOperator, RelayClient } from './relay-client.ts';

const KINDS = Object.keys(TOKEN_KINDS) as TokenKind[];

describe('tokens', () => {
  let cp: TestControlPlane;
  let cookie: string;
  const sockets: RelayClient[] = [];

  /**
   * A token as the control plane would sign it for `kind`, with one thing changed. Unchanged, it
   * verifies (checked below), so each refusal is down to the one change.
   */
  async function craft(
    kind: TokenKind,
    change: {
      header?: Record<string, unknown>;
      payload?: JWTPayload;
      omit?: (keyof JWTPayload)[];
      key?: CryptoKey | Uint8Array;
      alg?: string;
    } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const payload: JWTPayload = {
      iss: cp.services.config.publicUrl,
      aud: TOKEN_KINDS[kind].aud,
      sub: 'subject-1',
      sid: 'session-1',
      jti: randomUUID(),
      iat: now,
      exp: now + 60,
      ...change.payload,
    };
    for (const claim of change.omit ?? []) delete payload[claim];
    return new SignJWT(payload)
      .setProtectedHeader({
        alg: change.alg ?? 'EdDSA',
        kid: cp.services.keys.current.kid,
        typ: TOKEN_KINDS[kind].typ,
        ...change.header,
      } as { alg: string })
      .sign(change.key ?? cp.services.keys.current.privateKey);
  }

  async function refusal(kind: TokenKind, token: string) {
    const error = await cp.services.tokens.verify(kind, token).then(
      () => assert.fail('the token was accepted'),
      (caught: unknown) => caught,
    );
    assert.ok(isTokenError(error), `expected a TokenError, got ${error}`);
    if (token.length > 20) assert.ok(!error.message.includes(token), 'the error does not echo the token');
    return error;
  }

  before(async () => {
    cp = await startControlPlane({ listen: true });
    cookie = await loginCookie(cp.app);
  });

  after(() => closeAll(sockets, cp));

  describe('verification', () => {
    it('a token the control plane signed verifies, with its claims, for its own kind', async () => {
      for (const kind of KINDS) {
        const token = await cp.services.tokens.sign(
          kind,
          { sub: 'operator-7', sid: 'session-9', name: 'Bea' },
          60_000,
        );
        const claims = await cp.services.tokens.verify(kind, token);
        assert.equal(claims.sub, 'operator-7');
        assert.equal(claims.sid, 'session-9');
        assert.equal(claims.name, 'Bea');
        assert.equal(claims.iss, cp.services.config.publicUrl);
        assert.equal(claims.aud, TOKEN_KINDS[kind].aud);
        assert.match(claims.jti, /^[0-9a-f-]{36}$/);
        assert.ok(claims.exp > Date.now() / 1000 && claims.exp <= Date.now() / 1000 + 61);
        const header = JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[0]!)));
        assert.deepEqual(header, {
          alg: 'EdDSA',
          kid: cp.services.keys.current.kid,
          typ: TOKEN_KINDS[kind].typ,
        });
      }
    });

    it('a hand-crafted token with no change verifies, so the refusals below test one change each', async () => {
      for (const kind of KINDS) {
        const claims = await cp.services.tokens.verify(kind, await craft(kind));
        assert.equal(claims.sub, 'subject-1');
      }
    });

    it('an unsigned token (alg none) is refused', async () => {
      const valid = await craft('relayOperator');
      const [, payload] = valid.split('.');
      for (const alg of ['none', 'None', 'NONE']) {
        const header = base64url.encode(
          JSON.stringify({ alg, kid: cp.services.keys.current.kid, typ: TOKEN_KINDS.relayOperator.typ }),
        );
        const error = await refusal('relayOperator', `${header}.${payload}.`);
        assert.equal(error.kind, 'invalid');
        await refusal('relayOperator', `${header}.${payload}`);
      }
    });

    it("a token signed with another Ed25519 key under the control plane's kid is refused", async () => {
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      assert.equal((await refusal('console', await craft('console', { key: privateKey }))).kind, 'invalid');
    });

    it('an HS256 token keyed with the public key is refused', async () => {
      const publicJwk = cp.services.keys.current.publicJwk;
      const secrets = [
        base64url.decode(publicJwk.x!),
        new TextEncoder().encode(publicJwk.x!),
        new TextEncoder().encode(JSON.stringify(publicJwk)),
      ];
      for (const secret of secrets) {
        for (const alg of ['HS256', 'HS512']) {
          await refusal('relayAgent', await craft('relayAgent', { alg, key: secret }));
        }
      }
    });

    it('a token of one kind is refused as every other kind', async () => {
      for (const signedAs of KINDS) {
        const token = await cp.services.tokens.sign(signedAs, { sub: 'x', sid: 'y' }, 60_000);
        for (const verifiedAs of KINDS.filter((kind) => kind !== signedAs)) {
          assert.equal((await refusal(verifiedAs, token)).kind, 'invalid', `${signedAs} as ${verifiedAs}`);
        }
      }
    });

    it('the right audience with the wrong typ, or the right typ with the wrong audience, is refused', async () => {
      await refusal(
        'relayAgent',
        await craft('relayAgent', { header: { typ: TOKEN_KINDS.relayOperator.typ } }),
      );
      await refusal('relayAgent', await craft('relayAgent', { header: { typ: 'JWT' } }));
      await refusal(
        'relayAgent',
        await craft('relayAgent', { payload: { aud: TOKEN_KINDS.relayOperator.aud } }),
      );
      await refusal('relayAgent', await craft('relayAgent', { payload: { aud: 'lifeline:anything' } }));
      await refusal('relayAgent', await craft('relayAgent', { omit: ['aud'] }));
    });

    it('a token with no typ header is refused', async () => {
      const { privateKey } = cp.services.keys.current;
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ sid: 's' })
        .setProtectedHeader({ alg: 'EdDSA', kid: cp.services.keys.current.kid })
        .setIssuer(cp.services.config.publicUrl)
        .setAudience(TOKEN_KINDS.console.aud)
        .setSubject('x')
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(privateKey);
      await refusal('console', token);
    });

    it("an expired token is refused with kind 'expired'", async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = await craft('relayOperator', { payload: { iat: now - 120, exp: now - 60 } });
      const error = await refusal('relayOperator', token);
      assert.equal(error.kind, 'expired');
      assert.equal(error.message, 'token expired');
    });

    it('a token missing jti, sub, exp or iat is refused', async () => {
      for (const claim of ['jti', 'sub', 'exp', 'iat'] as const) {
        const error = await refusal('relayOperator', await craft('relayOperator', { omit: [claim] }));
        assert.equal(error.kind, 'invalid', claim);
      }
    });

    it('a token from another issuer is refused', async () => {
      for (const iss of ['https://other.example', `${cp.services.config.publicUrl}/`, 'http://127.0.0.1']) {
        await refusal('console', await craft('console', { payload: { iss } }));
      }
      await refusal('console', await craft('console', { omit: ['iss'] }));
    });

    it('a token with an unknown kid, or none, is refused', async () => {
      await refusal('console', await craft('console', { header: { kid: randomUUID() } }));
      await refusal('console', await craft('console', { header: { kid: undefined } }));
    });

    it('a token whose payload was changed after signing is refused', async () => {
      const [header, payload, signature] = (await craft('relayOperator')).split('.');
      const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload!)));
      const forged = base64url.encode(JSON.stringify({ ...claims, sid: 'someone-elses-session' }));
      await refusal('relayOperator', `${header}.${forged}.${signature}`);
    });

    it('garbage is refused as invalid without throwing anything else', async () => {
      for (const token of ['', 'a', 'a.b', 'a.b.c', '...', 'eyJ.eyJ.eyJ', 'x'.repeat(10_000)]) {
        assert.equal((await refusal('console', token)).kind, 'invalid');
      }
    });

    it('the published key set alone verifies what the control plane signs', async () => {
      const response = await cp.app.request('/.well-known/jwks.json');
      const jwks = createLocalJWKSet((await response.json()) as JSONWebKeySet);
      const token = await cp.services.tokens.sign('relayAgent', { sub: 'session-3' }, 60_000);
      const { payload } = await jwtVerify(token, jwks, { algorithms: ['EdDSA'] });
      assert.equal(payload.sub, 'session-3');
      // And refuses what another key signed under the same kid.
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      await assert.rejects(
        jwtVerify(await craft('relayAgent', { key: privateKey }), jwks, { algorithms: ['EdDSA'] }),
      );
    });
  });

  describe('on the relay', () => {
    it('an agent hello with a token of another kind is refused with TOKEN_INVALID', async () => {
      const registration = await registerAgent(cp.app);
      const wrong = [
        await cp.services.tokens.sign(
          'relayOperator',
          { sub: registration.sessionId, sid: registration.sessionId },
          60_000,
        ),
        await cp.services.tokens.sign('console', { sub: registration.sessionId }, 60_000),
        cookie.split('=')[1]!,
        'not-a-token',
      ];
      for (const token of wrong) {
        const client = await RelayClient.connect(registration.relay.url, {
          hello: { role: 'agent', token },
        });
        sockets.push(client);
        const error = await client.next('error');
        assert.equal(error.code, 'TOKEN_INVALID');
        assert.equal(error.message, 'The agent token is invalid.');
        assert.equal((await client.waitClosed()).code, CloseCode.policy);
      }
      assert.equal(cp.services.relay.isLive(registration.sessionId), false);
    });

    it("an operator hello with the agent's token is refused with TOKEN_INVALID", async () => {
      const { agent, registration } = await connectAgent(cp);
      sockets.push(agent);
      const client = await RelayClient.connect(registration.relay.url, {
        hello: { role: 'operator', token: registration.relay.token },
      });
      sockets.push(client);
      assert.equal((await client.next('error')).code, 'TOKEN_INVALID');
      await client.waitClosed();
      assert.deepEqual(agent.messages('operator-joined'), [], 'no operator joined');
      await agent.close();
    });

    it('an expired agent token is refused with TOKEN_INVALID and says it expired', async () => {
      const registration = await registerAgent(cp.app);
      const now = Math.floor(Date.now() / 1000);
      const token = await craft('relayAgent', {
        payload: { sub: registration.sessionId, iat: now - 120, exp: now - 1 },
      });
      const client = await RelayClient.connect(registration.relay.url, {
        hello: { role: 'agent', token },
      });
      sockets.push(client);
      const error = await client.next('error');
      assert.equal(error.code, 'TOKEN_INVALID');
      assert.match(error.message, /expired/);
    });

    it('a relay-operator token is accepted once and refused the second time', async () => {
      const { agent, registration } = await connectAgent(cp);
      sockets.push(agent);
      const { operator, grant } = await connectOperator(cp, registration.code, { cookie });
      sockets.push(operator);
      await agent.next('operator-joined');
      const replay = await RelayClient.connect(grant.relay.url, {
        hello: { role: 'operator', token: grant.relay.token },
      });
      sockets.push(replay);
      const error = await replay.next('error');
      assert.equal(error.code, 'TOKEN_INVALID');
      assert.match(error.message, /already used/);
      await replay.waitClosed();
      assert.equal(agent.messages('operator-joined').length, 1, 'the replay did not join');
      assert.equal(operator.isClosed, false, 'the first operator stays');
      await Promise.all([agent.close(), operator.close()]);
    });
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { base64url, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { digestPrefix, readStamp } from '../../agent/packaging/own-stamp.ts';
import { isStampError, type StampErrorKind, verifyStamp } from '../../agent/packaging/stamp-verify.ts';
import { encodeStampTrailer, parseStampFooter, STAMP_FOOTER_BYTES } from '../../protocol/agent-stamp.ts';
import { TOKEN_KINDS } from '../../protocol/index.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';

const EXE_DIGEST = createHash('sha256').update('an executable').digest('base64url');

/** Rewrites one claim of a signed JWT and keeps the original signature. */
function editClaims(jwt: string, edit: (claims: Record<string, unknown>) => void): string {
  const [header, payload, signature] = jwt.split('.') as [string, string, string];
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as Record<string, unknown>;
  edit(claims);
  return `${header}.${base64url.encode(JSON.stringify(claims))}.${signature}`;
}

async function refusal(promise: Promise<unknown>): Promise<{ kind: StampErrorKind; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isStampError(error)) return { kind: error.kind, message: error.message };
    throw error;
  }
  assert.fail('the stamp was accepted');
}

describe('stamp trailer', () => {
  it('round-trips a JWT appended to an executable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-stamp-'));
    try {
      const exe = Buffer.from('\x7fELF pretend executable bytes');
      const path = join(dir, 'agent');
      writeFileSync(path, Buffer.concat([exe, encodeStampTrailer('aaa.bbb.ccc')]));
      assert.deepEqual(readStamp(path), { jwt: 'aaa.bbb.ccc', unstampedLength: exe.length });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an executable without the magic has no stamp', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-stamp-'));
    try {
      const path = join(dir, 'agent');
      writeFileSync(path, Buffer.alloc(100, 7));
      assert.equal(readStamp(path), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a length that points before the start of the file is not a stamp', () => {
    const footer = encodeStampTrailer('x.y.z').subarray(-STAMP_FOOTER_BYTES);
    assert.equal(parseStampFooter(footer, STAMP_FOOTER_BYTES + 5), 5);
    assert.equal(parseStampFooter(footer, STAMP_FOOTER_BYTES + 4), undefined);
  });

  it('digests only the bytes before the stamp', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-stamp-'));
    try {
      const path = join(dir, 'agent');
      writeFileSync(path, Buffer.concat([Buffer.from('an executable'), encodeStampTrailer('a.b.c')]));
      assert.equal(await digestPrefix(path, 'an executable'.length), EXE_DIGEST);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('stamp verification against the control plane that signed it', () => {
  let cp: TestControlPlane;
  /** Sends the agent's JWKS request to the in-process control plane, whatever host the stamp names. */
  let viaApp: typeof fetch;
  const digest = async () => EXE_DIGEST;

  before(async () => {
    cp = await startControlPlane();
    viaApp = ((input: string | URL | Request) =>
      cp.app.request(new URL(String(input)).pathname)) as unknown as typeof fetch;
  });
  after(() => cp?.stop());

  const sign = (claims: Record<string, unknown> = {}, ttlMs = 60_000) =>
    cp.services.tokens.sign('agentStamp', { sub: 'linux-x64', exe: EXE_DIGEST, ...claims }, ttlMs);

  /** A stamp for linux-x64 signed with a key the server never had, under the key id `kid`. */
  async function forgedStamp(kid: string, options: { bringsItsKey?: boolean } = {}): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    return new SignJWT({ exe: EXE_DIGEST })
      .setProtectedHeader({
        alg: 'EdDSA',
        kid,
        typ: TOKEN_KINDS.agentStamp.typ,
        ...(options.bringsItsKey ? { jwk: await exportJWK(publicKey) } : {}),
      })
      .setIssuer(cp.url)
      .setAudience(TOKEN_KINDS.agentStamp.aud)
      .setSubject('linux-x64')
      .setJti('forged')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
  }

  it('a genuine stamp yields the server and platform', async () => {
    const config = await verifyStamp(await sign(), { fetch: viaApp, executableDigest: digest });
    assert.deepEqual(config, { server: cp.url, kid: cp.services.keys.current.kid, platform: 'linux-x64' });
  });

  it('a stamp for a prepared session yields the session and its relay grant', async () => {
    const relay = { url: 'ws://127.0.0.1:8080/ws', token: 'relay-agent-token' };
    const config = await verifyStamp(await sign({ sid: 'session-1', relay }), { fetch: viaApp });
    assert.deepEqual(config.session, { id: 'session-1', relay });
  });

  it('a stamp whose claims were edited is refused as altered', async () => {
    const forged = editClaims(await sign(), (claims) => {
      claims['sub'] = 'win-x64';
    });
    const refused = await refusal(verifyStamp(forged, { fetch: viaApp }));
    assert.equal(refused.kind, 'tampered');
    assert.match(refused.message, /altered after 127\.0\.0\.1:8080 signed it/);
  });

  it('a session smuggled into a generic stamp is refused', async () => {
    const forged = editClaims(await sign(), (claims) => {
      claims['sid'] = 'someone-elses-session';
      claims['relay'] = { url: 'ws://evil.example/ws', token: 'x' };
    });
    assert.equal((await refusal(verifyStamp(forged, { fetch: viaApp }))).kind, 'tampered');
  });

  it('a stamp signed with another key under the server key id is refused', async () => {
    const forged = await forgedStamp(cp.services.keys.current.kid);
    assert.equal((await refusal(verifyStamp(forged, { fetch: viaApp }))).kind, 'tampered');
  });

  it('a stamp that brings its own public key is refused without looking at it', async () => {
    const forged = await forgedStamp('attacker', { bringsItsKey: true });
    const refused = await refusal(verifyStamp(forged, { fetch: viaApp }));
    assert.equal(refused.kind, 'tampered');
    assert.match(refused.message, /brings its own signing key/);
  });

  it('a stamp under a key id the server does not publish is refused', async () => {
    const forged = await forgedStamp('retired-key');
    assert.equal((await refusal(verifyStamp(forged, { fetch: viaApp }))).kind, 'unknown-key');
  });

  it('a stamp made for another build is refused', async () => {
    const other = async () => createHash('sha256').update('another build').digest('base64url');
    assert.equal(
      (await refusal(verifyStamp(await sign(), { fetch: viaApp, executableDigest: other }))).kind,
      'wrong-executable',
    );
  });

  it('a stamp for one server does not connect to another named with --server', async () => {
    const refused = await refusal(
      verifyStamp(await sign(), { fetch: viaApp, expectedServer: 'https://other.example.org' }),
    );
    assert.equal(refused.kind, 'wrong-server');
  });

  it('another kind of token is not a stamp', async () => {
    const relayToken = await cp.services.tokens.sign('relayAgent', { sub: 'session' }, 60_000);
    assert.equal((await refusal(verifyStamp(relayToken, { fetch: viaApp }))).kind, 'malformed');
  });

  it('an expired stamp is refused as expired', async () => {
    const stamp = await sign({}, 1000);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    assert.equal((await refusal(verifyStamp(stamp, { fetch: viaApp }))).kind, 'expired');
  });

  it('a server that cannot be reached is reported as unreachable, not as tampering', async () => {
    const down = (() => Promise.reject(new TypeError('fetch failed'))) as unknown as typeof fetch;
    assert.equal((await refusal(verifyStamp(await sign(), { fetch: down }))).kind, 'unreachable');
  });

  it('bytes that are not a JWT are refused as damaged', async () => {
    assert.equal((await refusal(verifyStamp('not a stamp', { fetch: viaApp }))).kind, 'malformed');
  });
});

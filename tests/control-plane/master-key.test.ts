import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createClient } from '@libsql/client';
import { exportJWK, generateKeyPair } from 'jose';
import { loadConfig } from '../../control-plane/config.ts';
import { createLogger } from '../../control-plane/logger.ts';
import { createServices, type Services } from '../../control-plane/services.ts';

const ADMIN_PASSWORD = 'correct horse battery staple';

async function start(dataDir: string, env: Record<string, string> = {}): Promise<Services> {
  const config = loadConfig({
    LIFELINE_DATA_DIR: dataDir,
    LIFELINE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOG_LEVEL: 'silent',
    ...env,
  });
  return createServices(config, createLogger('silent'), { announce: () => {} });
}

async function stop(services: Services): Promise<void> {
  await services.close();
}

/** Every text stored in the table, as one string. */
async function dump(dataDir: string, table: string): Promise<string> {
  const client = createClient({ url: `file:${join(dataDir, 'lifeline.db')}` });
  try {
    return JSON.stringify((await client.execute(`select * from ${table}`)).rows);
  } finally {
    client.close();
  }
}

describe('the master key seals the server secrets stored in the database', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-master-'));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a first start writes a 0600 key file, and the database holds no private key or HMAC secret in the clear', async () => {
    const dir = fresh();
    const services = await start(dir);
    const token = await services.tokens.sign('agentStamp', { sub: 's1' }, 60_000);
    await stop(services);
    const file = join(dir, 'master.key');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url').length, 32);
    const keys = await dump(dir, 'signing_keys');
    assert.ok(keys.includes('sealed'), keys.slice(0, 200));
    // An Ed25519 private JWK carries its private part as "d".
    assert.ok(!/\\"d\\"/.test(keys), 'no private JWK member in the clear');
    const secrets = await dump(dir, 'server_secrets');
    assert.match(secrets, /sealed:v1:/);
    assert.ok(token.length > 0);
  });

  it('a restart on the same data directory signs with the same key, and old tokens verify', async () => {
    const dir = fresh();
    const first = await start(dir);
    const token = await first.tokens.sign('agentStamp', { sub: 'session-1' }, 60_000);
    const kid = first.keys.current.kid;
    await stop(first);
    const second = await start(dir);
    try {
      assert.equal(second.keys.current.kid, kid);
      const claims = await second.tokens.verify('agentStamp', token);
      assert.equal(claims.sub, 'session-1');
    } finally {
      await stop(second);
    }
  });

  it('LIFELINE_MASTER_KEY replaces the file, and a different key is refused with a message that says what to do', async () => {
    const dir = fresh();
    const key = randomBytes(32).toString('base64url');
    await stop(await start(dir, { LIFELINE_MASTER_KEY: key }));
    assert.throws(() => statSync(join(dir, 'master.key')), /ENOENT/);
    await stop(await start(dir, { LIFELINE_MASTER_KEY: key }));
    await assert.rejects(
      start(dir, { LIFELINE_MASTER_KEY: randomBytes(32).toString('base64url') }),
      (error: Error) => {
        assert.equal(error.name, 'ConfigError');
        assert.match(error.message, /sealed with a different master key/);
        assert.match(error.message, /LIFELINE_MASTER_KEY/);
        return true;
      },
    );
  });

  it('a master key that is not 32 bytes of base64url is refused at start-up', async () => {
    await assert.rejects(start(fresh(), { LIFELINE_MASTER_KEY: 'too-short' }), /32-byte key in base64url/);
  });

  it('secrets stored in the clear by an older version are sealed in place on start, and keep working', async () => {
    const dir = fresh();
    const first = await start(dir);
    const kid = first.keys.current.kid;
    await stop(first);
    // Put the rows back the way an older version stored them: the private JWK and secret bare.
    const client = createClient({ url: `file:${join(dir, 'lifeline.db')}` });
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(privateKey);
    await client.execute({
      sql: 'update signing_keys set private_jwk = ?, public_jwk = ? where kid = ?',
      args: [JSON.stringify(jwk), JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }), kid],
    });
    await client.execute({
      sql: 'update server_secrets set value = ?',
      args: [randomBytes(32).toString('base64url')],
    });
    client.close();
    const second = await start(dir);
    try {
      const token = await second.tokens.sign('agentStamp', { sub: 'legacy' }, 60_000);
      assert.equal((await second.tokens.verify('agentStamp', token)).sub, 'legacy');
    } finally {
      await stop(second);
    }
    assert.ok(!(await dump(dir, 'signing_keys')).includes(`"${jwk.d}"`), 'the bare private key was sealed');
    assert.match(await dump(dir, 'server_secrets'), /sealed:v1:/);
  });
});

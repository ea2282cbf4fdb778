import { randomUUID } from 'node:crypto';
import { eq, isNull } from 'drizzle-orm';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Database } from '../db/client.ts';
import { signingKeys } from '../db/schema.ts';
import type { MasterKey } from './master-key.ts';
import { sealText } from './sealing.ts';
import { unseal } from './server-secret.ts';

/** The only algorithm Lifeline signs or accepts. */
export const SIGNING_ALG = 'EdDSA';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface KeyRing {
  /** The key new tokens are signed with. */
  current: SigningKey;
  /** Public keys by `kid`, for verification. */
  publicKeys: Map<string, CryptoKey>;
  /** The JSON Web Key Set published at `/.well-known/jwks.json`. */
  jwks: { keys: JWK[] };
}

/** How a private key is stored: sealed under the master key (older rows hold the bare JWK). */
interface SealedJwk {
  sealed: string;
}

function isSealed(value: unknown): value is SealedJwk {
  return typeof value === 'object' && value !== null && typeof (value as SealedJwk).sealed === 'string';
}

/**
 * Loads the Ed25519 signing keys, generating and persisting the first one on first start. Keys live
 * in the database so every control-plane node signs and verifies alike; private keys are sealed under
 * the master key (bare ones written by an older version are sealed in place).
 */
export async function loadKeyRing(db: Database, master: MasterKey): Promise<KeyRing> {
  const sealing = master.derive('signing-keys');
  let rows = await db.select().from(signingKeys).where(isNull(signingKeys.retiredAt));
  if (rows.length === 0) {
    const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, {
      crv: 'Ed25519',
      extractable: true,
    });
    const kid = randomUUID();
    await db
      .insert(signingKeys)
      .values({
        kid,
        privateJwk: { sealed: sealText(JSON.stringify(await exportJWK(privateKey)), sealing) } as JsonWebKey,
        publicJwk: (await exportJWK(publicKey)) as JsonWebKey,
        createdAt: new Date(),
      })
      .onConflictDoNothing();
    rows = await db.select().from(signingKeys).where(isNull(signingKeys.retiredAt));
  }
  rows.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  for (const row of rows) {
    if (isSealed(row.privateJwk)) continue;
    const sealed = { sealed: sealText(JSON.stringify(row.privateJwk), sealing) } as JsonWebKey;
    await db.update(signingKeys).set({ privateJwk: sealed }).where(eq(signingKeys.kid, row.kid));
  }
  const publicKeys = new Map<string, CryptoKey>();
  const jwks: JWK[] = [];
  for (const row of rows) {
    const jwk = { ...(row.publicJwk as JWK), kid: row.kid, alg: SIGNING_ALG, use: 'sig' };
    publicKeys.set(row.kid, (await importJWK(jwk, SIGNING_ALG)) as CryptoKey);
    jwks.push(jwk);
  }
  const newest = rows[0]!;
  return {
    current: {
      kid: newest.kid,
      privateKey: (await importJWK(privateJwkOf(newest.privateJwk, sealing), SIGNING_ALG)) as CryptoKey,
      publicJwk: jwks[0]!,
    },
    publicKeys,
    jwks: { keys: jwks },
  };
}

function privateJwkOf(stored: unknown, sealing: Buffer): JWK {
  return isSealed(stored)
    ? (JSON.parse(unseal(stored.sealed, sealing, 'signing key')) as JWK)
    : (stored as JWK);
}

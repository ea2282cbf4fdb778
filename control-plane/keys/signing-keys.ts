import { randomUUID } from 'node:crypto';
import { isNull } from 'drizzle-orm';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Database } from '../db/client.ts';
import { signingKeys } from '../db/schema.ts';

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

/**
 * Loads the Ed25519 signing keys, generating and persisting the first one on first start.
 * Keys live in the database so every control-plane node signs and verifies alike.
 */
export async function loadKeyRing(db: Database): Promise<KeyRing> {
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
        privateJwk: (await exportJWK(privateKey)) as JsonWebKey,
        publicJwk: (await exportJWK(publicKey)) as JsonWebKey,
        createdAt: new Date(),
      })
      .onConflictDoNothing();
    rows = await db.select().from(signingKeys).where(isNull(signingKeys.retiredAt));
  }
  rows.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
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
      privateKey: (await importJWK(newest.privateJwk as JWK, SIGNING_ALG)) as CryptoKey,
      publicJwk: jwks[0]!,
    },
    publicKeys,
    jwks: { keys: jwks },
  };
}

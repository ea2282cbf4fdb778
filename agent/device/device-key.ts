import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { DEVICE_TOKEN_SECONDS, deviceAudience, TOKEN_KINDS } from '../../protocol/index.ts';

/** A device's Ed25519 key pair, generated on the device; only `publicJwk` ever leaves it. */
export interface DeviceKeyPair {
  privateJwk: JWK;
  publicJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string };
}

export async function generateDeviceKey(): Promise<DeviceKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const pub = await exportJWK(publicKey);
  return { privateJwk: await exportJWK(privateKey), publicJwk: { kty: 'OKP', crv: 'Ed25519', x: pub.x! } };
}

/**
 * A fresh identity token for the device: signed with its private key, for its own audience, a
 * minute long and used once (a new `jti` every time).
 */
export async function signDeviceToken(deviceId: string, privateJwk: JWK): Promise<string> {
  const key = await importJWK(privateJwk, 'EdDSA');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', typ: TOKEN_KINDS.deviceIdentity.typ })
    .setIssuer(deviceId)
    .setSubject(deviceId)
    .setAudience(deviceAudience(deviceId))
    .setIssuedAt()
    .setExpirationTime(`${DEVICE_TOKEN_SECONDS}s`)
    .setJti(randomUUID())
    .sign(key);
}

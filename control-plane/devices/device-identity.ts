import { decodeJwt, importJWK, jwtVerify } from 'jose';
import { DEVICE_TOKEN_SECONDS, deviceAudience, TOKEN_KINDS } from '../../protocol/index.ts';
import { TokenError } from '../tokens/tokens.ts';
import type { DeviceRow, DeviceStore } from './device-store.ts';

/** Leeway for the device's clock, in seconds. */
const CLOCK_TOLERANCE_S = 30;

/**
 * Checks the identity tokens enrolled devices sign with their own Ed25519 key: the device must exist
 * and not be removed, the signature must verify with the public key stored at enrolment, the audience
 * must be the device's own, the token at most {@link DEVICE_TOKEN_SECONDS} long and used once.
 */
export class DeviceIdentity {
  /** The ids of tokens already used, until they expire. */
  private readonly used = new Map<string, number>();

  constructor(private readonly store: DeviceStore) {}

  /** The device the token proves, or a {@link TokenError} whose message is safe to return. */
  async verify(token: string): Promise<DeviceRow> {
    let deviceId: unknown;
    try {
      deviceId = decodeJwt(token).sub;
    } catch (error) {
      throw new TokenError('invalid', 'The device token is malformed.', { cause: error });
    }
    const device = typeof deviceId === 'string' ? await this.store.get(deviceId) : undefined;
    if (!device || device.removedAt)
      throw new TokenError('invalid', 'This device is not enrolled (or was removed): enrol it again.');
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      const key = await importJWK(device.publicJwk as Parameters<typeof importJWK>[0], 'EdDSA');
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ['EdDSA'],
        typ: TOKEN_KINDS.deviceIdentity.typ,
        audience: deviceAudience(device.id),
        issuer: device.id,
        subject: device.id,
        requiredClaims: ['exp', 'iat', 'jti'],
        maxTokenAge: DEVICE_TOKEN_SECONDS + CLOCK_TOLERANCE_S,
        clockTolerance: CLOCK_TOLERANCE_S,
      }));
    } catch (error) {
      throw new TokenError('invalid', 'The device token does not verify.', { cause: error });
    }
    const { exp, iat, jti } = payload as { exp: number; iat: number; jti: string };
    if (exp - iat > DEVICE_TOKEN_SECONDS)
      throw new TokenError('invalid', `A device token may live ${DEVICE_TOKEN_SECONDS} s at most.`);
    this.forgetExpired();
    const key = `${device.id}/${jti}`;
    if (this.used.has(key)) throw new TokenError('invalid', 'This device token was used already.');
    this.used.set(key, exp + CLOCK_TOLERANCE_S);
    return device;
  }

  private forgetExpired(): void {
    const now = Date.now() / 1000;
    for (const [key, until] of this.used) if (until < now) this.used.delete(key);
  }
}

import { createLocalJWKSet, errors, type JWK, jwtVerify } from 'jose';
import {
  type DeviceOrder,
  deviceOrderAudience,
  deviceOrderSchema,
  ORDER_MAX_SECONDS,
  type OrderResult,
  orderRefusal,
  type Policy,
  policySchema,
  TOKEN_KINDS,
} from '../../protocol/index.ts';

/** Leeway for the device's clock, in seconds. */
const CLOCK_TOLERANCE_S = 30;

/** The control plane's public signing keys, as it gave them at enrolment. */
export interface ServerKeys {
  keys: JWK[];
}

/** An order the device may obey, or the refusal to send back. */
export type VerifiedOrder =
  | { ok: true; order: DeviceOrder; policy: Policy; jti: string }
  | Extract<OrderResult, { ok: false }>;

/**
 * Checks the orders the hub forwards to this device: signed by the control plane with a key the
 * device stored at enrolment (nothing from the hub link is trusted), for this device's audience,
 * at most {@link ORDER_MAX_SECONDS} long and unexpired, never seen before, and allowed by the group
 * policy it carries. Refusals are result codes with a reason, to send back as the order's result.
 */
export class OrderVerifier {
  /** The ids of orders already accepted, until they expire. */
  private readonly used = new Map<string, number>();
  private readonly keys: ReturnType<typeof createLocalJWKSet> | undefined;

  constructor(
    private readonly deviceId: string,
    serverKeys: ServerKeys | undefined,
  ) {
    this.keys = serverKeys?.keys.length ? createLocalJWKSet(serverKeys) : undefined;
  }

  async verify(token: string): Promise<VerifiedOrder> {
    if (!this.keys)
      return refuse(
        'TOKEN_INVALID',
        "This device has no copy of the control plane's keys (it was enrolled by an older agent): uninstall and enrol it again.",
      );
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: ['EdDSA'],
        typ: TOKEN_KINDS.deviceOrder.typ,
        audience: deviceOrderAudience(this.deviceId),
        subject: this.deviceId,
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
        maxTokenAge: ORDER_MAX_SECONDS + CLOCK_TOLERANCE_S,
        clockTolerance: CLOCK_TOLERANCE_S,
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) return refuse('ORDER_EXPIRED', 'The order has expired.');
      if (error instanceof errors.JWTClaimValidationFailed && ['aud', 'sub'].includes(error.claim))
        return refuse('ORDER_WRONG_DEVICE', 'The order is for another device.');
      return refuse(
        'TOKEN_INVALID',
        'The order is not signed by the control plane this device enrolled with.',
      );
    }
    const { exp, iat, jti } = payload as { exp: number; iat: number; jti: string };
    if (exp - iat > ORDER_MAX_SECONDS)
      return refuse('TOKEN_INVALID', `An order may live ${ORDER_MAX_SECONDS} s at most.`);
    this.forgetExpired();
    if (this.used.has(jti)) return refuse('ORDER_REPLAYED', 'This order was received before.');
    this.used.set(jti, exp + CLOCK_TOLERANCE_S);

    const kind = (payload['ord'] as { kind?: unknown } | undefined)?.kind;
    const order = deviceOrderSchema.safeParse(payload['ord']);
    if (!order.success)
      return typeof kind === 'string' && !deviceOrderSchema.options.some((o) => o.shape.kind.value === kind)
        ? refuse('NOT_SUPPORTED', `This agent does not know orders of kind ${kind.slice(0, 40)}: update it.`)
        : refuse('MALFORMED', 'The order is malformed.');
    const policy = policySchema.safeParse(payload['pol']);
    if (!policy.success) return refuse('MALFORMED', 'The policy inside the order is malformed.');
    const refusal = orderRefusal(order.data, policy.data);
    if (refusal) return refuse('POLICY_FORBIDS', refusal);
    return { ok: true, order: order.data, policy: policy.data, jti };
  }

  private forgetExpired(): void {
    const now = Date.now() / 1000;
    for (const [jti, until] of this.used) if (until < now) this.used.delete(jti);
  }
}

function refuse(code: Extract<OrderResult, { ok: false }>['code'], message: string): VerifiedOrder {
  return { ok: false, code, message };
}

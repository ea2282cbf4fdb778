import { randomUUID } from 'node:crypto';
import {
  type DeviceOrder,
  deviceOrderAudience,
  type OrderResult,
  orderRefusal,
} from '../../protocol/index.ts';
import type { Services } from '../services.ts';

/** How long an order token lives, in milliseconds (the device refuses more than a minute). */
export const ORDER_TOKEN_TTL_MS = 30_000;
/** How long the control plane waits for a device's answer to an order, in milliseconds. */
export const ORDER_TIMEOUT_MS = 20_000;

/**
 * Orders a resident device to do something and resolves with its answer. The order is signed for
 * that device alone (its own audience, {@link ORDER_TOKEN_TTL_MS} long, a fresh `jti` it accepts
 * once) with the device group's policy in force, which the device checks again before obeying.
 * Never rejects for the device's sake: an unknown or removed device is `NOT_FOUND`, an order the
 * policy refuses `POLICY_FORBIDS` (not sent at all), a device not connected to this node
 * `DEVICE_OFFLINE`, no answer in time `TIMEOUT`; the device's own refusals come back as it said them.
 *
 * @example
 * const result = await sendOrder(services, device.id, { kind: 'join-session', ... });
 * if (!result.ok) throw new ApiError(409, result.code, result.message);
 */
export async function sendOrder(
  services: Services,
  deviceId: string,
  order: DeviceOrder,
  timeoutMs = ORDER_TIMEOUT_MS,
): Promise<OrderResult> {
  const device = await services.devices.store.get(deviceId);
  const group = device && !device.removedAt ? await services.groups.get(device.deviceGroupId) : undefined;
  if (!device || !group) return { ok: false, code: 'NOT_FOUND', message: 'No such device.' };
  const refusal = orderRefusal(order, group.policy);
  if (refusal) return { ok: false, code: 'POLICY_FORBIDS', message: refusal };
  const id = randomUUID();
  const token = await services.tokens.sign(
    'deviceOrder',
    { sub: device.id, jti: id, ord: order, pol: group.policy },
    ORDER_TOKEN_TTL_MS,
    deviceOrderAudience(device.id),
  );
  const result = await services.devices.hub.order(device.id, { id, token }, timeoutMs);
  services.logger.info(
    {
      event: 'device-order',
      deviceId: device.id,
      order: order.kind,
      result: result.ok ? 'ok' : result.code,
    },
    result.ok ? 'device obeyed an order' : 'device order failed',
  );
  return result;
}

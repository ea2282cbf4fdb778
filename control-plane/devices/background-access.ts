import { runsAsSchema } from '../../protocol/api/devices.ts';
import { sessionSchema } from '../../protocol/api/sessions.ts';
import type { ResultCode } from '../../protocol/index.ts';
import { auditActor } from '../auth/authenticate.ts';
import type { Principal } from '../http/app-env.ts';
import { json, z } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { type SessionRow, sessionView } from '../sessions/session-store.ts';
import { openDeviceSession, runsAsOf } from './device-session.ts';
import type { DeviceRow } from './device-store.ts';

/** The 201 answer of a route that opens a background session: the session and whose it is on the device. */
export const openedSessionResponse = json(
  z.object({ session: sessionSchema, runsAs: runsAsSchema.optional() }),
  'The session, its device side connected: join it like any other session',
);

/** The body of {@link openedSessionResponse} for what `openBackgroundAccess` resolved with. */
export function openedSessionView(
  services: Services,
  { session, detail }: { session: SessionRow; detail: Record<string, unknown> },
) {
  return { session: sessionView(session, services.relay.agentAway(session.id)), ...runsAsOf(detail) };
}

/** The HTTP status for a device's (or the hub's) refusal of a background-access order. */
const STATUS_OF: Partial<Record<ResultCode, 403 | 404 | 409 | 504>> = {
  POLICY_FORBIDS: 403,
  NOT_FOUND: 404,
  TIMEOUT: 504,
};

/**
 * Background access for `principal` on `device` (JumpCloud's): refused with 403 unless the device
 * group's policy allows it for the operator's role; otherwise a session whose device side the
 * device starts on order, audited `remote_session_start`. A device that is offline, or refuses or
 * fails the order, is a problem with the device's result code and reason. `elevated`: the
 * administrator shell of elevated tools, a background session with a shell only, allowed by the
 * policy's `elevatedTools` for the role instead (checked with the order, send-order.ts); the user
 * is told by the device. Resolves with the session and the device's answer.
 */
export async function openBackgroundAccess(
  services: Services,
  device: DeviceRow,
  principal: Principal,
  address: string,
  elevated = false,
): Promise<{ session: SessionRow; detail: Record<string, unknown> }> {
  const group = await services.groups.get(device.deviceGroupId);
  const policy = group?.policy.backgroundAccess;
  const role = principal.operator.role;
  // The administrator shell's policy check (elevatedTools, the role, shells) goes with its order.
  if (!elevated && !policy?.allowed)
    throw new ApiError(403, 'POLICY_FORBIDS', "The device group's policy does not allow background access.");
  if (!elevated && !policy?.roles.includes(role))
    throw new ApiError(
      403,
      'POLICY_FORBIDS',
      `The device group's policy does not allow background access for the ${role} role.`,
    );
  const { session, result } = await openDeviceSession(
    services,
    device,
    { id: principal.operator.id, name: principal.operator.name, role },
    'background',
    elevated ? { elevated } : {},
  );
  if (!result.ok) {
    await services.audit.record({
      ...auditActor(principal),
      action: 'remote_session_refused',
      sessionId: session.id,
      address,
      details: {
        deviceId: device.id,
        access: 'background',
        ...(elevated ? { elevated } : {}),
        result: result.code,
        message: result.message,
      },
    });
    throw new ApiError(STATUS_OF[result.code] ?? 409, result.code, result.message);
  }
  await services.audit.record({
    ...auditActor(principal),
    action: 'remote_session_start',
    sessionId: session.id,
    address,
    details: {
      deviceId: device.id,
      hostname: device.hostname,
      access: 'background',
      ...(elevated
        ? { elevated, told: result.detail?.['told'] === true }
        : { notifyUser: policy?.notifyUser }),
    },
  });
  return { session, detail: result.detail ?? {} };
}

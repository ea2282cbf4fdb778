import { createRoute } from '@hono/zod-openapi';
import { runsAsSchema } from '../../protocol/api/devices.ts';
import type { OrderOperator, OrderResult } from '../../protocol/index.ts';
import { auditActor, requireAuth, requireScope } from '../auth/authenticate.ts';
import { canSeeOrganisation } from '../auth/scopes.ts';
import type { Principal } from '../http/app-env.ts';
import { authenticated, createApi, idParam, json, jsonBody, problems, z } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { tooFrequent } from '../throttle/too-frequent.ts';
import { openDeviceSession, runsAsOf } from './device-session.ts';
import type { DeviceRow } from './device-store.ts';
import { sendOrder } from './send-order.ts';

const sessionOpened = json(
  z.object({ sessionId: z.string(), runsAs: runsAsSchema.optional() }).openapi({
    description: 'The session on the device: join it like any other (`POST /api/sessions/{id}/join`)',
  }),
  'The device started its session host, and it reached the relay',
);

const routes = {
  startUnattended: createRoute({
    method: 'post',
    path: '/devices/{id}/unattended',
    tags: ['devices'],
    summary:
      'Start unattended access: the device prepares its session host and a dynamic password, returned this once',
    security: authenticated,
    request: { params: idParam },
    responses: {
      201: json(
        z.object({
          password: z.string().openapi({ description: 'The dynamic password; never shown again' }),
        }),
        'Unattended access started',
      ),
      ...problems(401, 403, 404, 409, 502, 504),
    },
  }),
  connectUnattended: createRoute({
    method: 'post',
    path: '/devices/{id}/unattended/sessions',
    tags: ['devices'],
    summary: 'Open an unattended session on a device with its dynamic password (wrong ones are throttled)',
    security: authenticated,
    request: { params: idParam, body: jsonBody(z.object({ password: z.string().min(1).max(200) })) },
    responses: { 201: sessionOpened, ...problems(400, 401, 403, 404, 409, 410, 429, 502, 504) },
  }),
  offerHelp: createRoute({
    method: 'post',
    path: '/devices/{id}/offer-help',
    tags: ['devices'],
    summary:
      'Offer help to the user logged in at a device: they see who offers and what for, and accept or refuse',
    security: authenticated,
    request: {
      params: idParam,
      body: jsonBody(
        z.object({ reason: z.string().max(200).optional().openapi({ description: 'Shown to the user' }) }),
      ),
    },
    responses: { 201: sessionOpened, ...problems(400, 401, 403, 404, 409, 502, 504) },
  }),
};

/** The HTTP status of an order's failure, for the operator who asked for it. */
const ORDER_FAILURE_STATUS: Partial<Record<string, 400 | 403 | 404 | 409 | 410 | 504>> = {
  VALIDATION_FAILED: 400,
  NOT_FOUND: 404,
  FORBIDDEN: 403,
  CONFLICT: 409,
  POLICY_FORBIDS: 403,
  DEVICE_OFFLINE: 409,
  NOT_SUPPORTED: 409,
  UNATTENDED_INACTIVE: 410,
  TIMEOUT: 504,
};

export function orderFailure(result: Extract<OrderResult, { ok: false }>): ApiError {
  return new ApiError(ORDER_FAILURE_STATUS[result.code] ?? 502, result.code, result.message);
}

export function orderOperator(principal: Principal): OrderOperator {
  const { operator } = principal;
  return { id: operator.id, name: operator.name, role: operator.role };
}

/** The device `id` when `principal` may see it; else a 404 problem. */
export async function visibleDevice(
  services: Services,
  principal: Principal,
  id: string,
): Promise<DeviceRow> {
  const device = await services.devices.store.get(id);
  if (!device || device.removedAt || !canSeeOrganisation(principal, device.organisationId))
    throw new ApiError(404, 'NOT_FOUND', 'No such device.');
  return device;
}

/**
 * Screen sessions on resident devices that nobody asked for at the device (README, "Unattended
 * access" and "Offering help"): each is a signed order to the device (send-order.ts) that starts a
 * session host the operator then joins like any session.
 */
export function deviceAccessRoutes(services: Services) {
  const app = createApi();
  app.use('/devices/*', requireAuth(services));
  const { unattended } = services.devices;

  const visible = (principal: Principal, id: string) => visibleDevice(services, principal, id);

  app.openapi({ ...routes.startUnattended, middleware: [requireScope('sessions:write')] }, async (c) => {
    const principal = c.get('principal');
    const device = await visible(principal, c.req.valid('param').id);
    const result = await sendOrder(services, device.id, {
      kind: 'start-unattended',
      operator: orderOperator(principal),
    });
    await services.audit.record({
      ...auditActor(principal),
      action: result.ok ? 'device.unattended-start' : 'device.unattended-start-failed',
      organisationId: device.organisationId,
      address: c.get('address'),
      details: { deviceId: device.id, ...(result.ok ? {} : { result: result.code }) },
    });
    if (!result.ok) throw orderFailure(result);
    const { grant, password } = (result.detail ?? {}) as { grant?: unknown; password?: unknown };
    if (typeof grant !== 'string' || typeof password !== 'string')
      throw new ApiError(502, 'INTERNAL', 'The device answered without a password.');
    await unattended.remember(device.id, grant, password);
    return c.json({ password }, 201);
  });

  app.openapi({ ...routes.connectUnattended, middleware: [requireScope('sessions:write')] }, async (c) => {
    const principal = c.get('principal');
    const address = c.get('address');
    const device = await visible(principal, c.req.valid('param').id);
    // Per device, whoever guesses: a password is the device's, not the operator's.
    const verdict = services.unattendedPasswordThrottle.check(device.id);
    if (!verdict.allowed)
      throw tooFrequent(
        verdict.retryAfterMs,
        (s) => `Too many wrong passwords for this device. Try again in ${s} s.`,
      );
    const grant = await unattended.check(device.id, c.req.valid('json').password, services.dummyPasswordHash);
    if (!grant) {
      services.unattendedPasswordThrottle.fail(device.id);
      await services.audit.record({
        ...auditActor(principal),
        action: 'device.unattended-password-refused',
        organisationId: device.organisationId,
        address,
        details: { deviceId: device.id },
      });
      throw new ApiError(
        403,
        'PASSWORD_WRONG',
        'This is not the password of unattended access to this device.',
      );
    }
    services.unattendedPasswordThrottle.succeed(device.id);
    const { session, result } = await openDeviceSession(
      services,
      device,
      orderOperator(principal),
      'unattended',
      { grant },
    );
    if (!result.ok && result.code === 'UNATTENDED_INACTIVE') unattended.forget(device.id, grant);
    await services.audit.record({
      ...auditActor(principal),
      action: result.ok ? 'device.unattended-connect' : 'device.unattended-connect-failed',
      organisationId: device.organisationId,
      sessionId: session.id,
      address,
      details: {
        deviceId: device.id,
        ...(result.ok ? {} : { result: result.code, message: result.message }),
      },
    });
    if (!result.ok) throw orderFailure(result);
    return c.json({ sessionId: session.id, ...runsAsOf(result.detail) }, 201);
  });

  app.openapi({ ...routes.offerHelp, middleware: [requireScope('sessions:write')] }, async (c) => {
    const principal = c.get('principal');
    const device = await visible(principal, c.req.valid('param').id);
    const { reason } = c.req.valid('json');
    const { session, result } = await openDeviceSession(
      services,
      device,
      orderOperator(principal),
      'offer',
      reason ? { reason } : {},
    );
    await services.audit.record({
      ...auditActor(principal),
      action: result.ok ? 'device.offer-help' : 'device.offer-help-failed',
      organisationId: device.organisationId,
      sessionId: session.id,
      address: c.get('address'),
      details: {
        deviceId: device.id,
        ...(result.ok ? {} : { result: result.code, message: result.message }),
      },
    });
    if (!result.ok) throw orderFailure(result);
    return c.json({ sessionId: session.id, ...runsAsOf(result.detail) }, 201);
  });

  return app;
}

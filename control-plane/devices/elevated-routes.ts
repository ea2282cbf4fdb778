import { createRoute } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { runsAsSchema } from '../../protocol/api/devices.ts';
import { sessionSchema } from '../../protocol/api/sessions.ts';
import {
  MAX_LISTED_PROCESSES,
  MAX_LISTED_SERVICES,
  type OrderResult,
  processInfoSchema,
  SERVICE_ACTIONS,
  SERVICE_UNIT_PATTERN,
  serviceInfoSchema,
} from '../../protocol/index.ts';
import { auditActor, requireAuth, requireScope } from '../auth/authenticate.ts';
import { hasScope } from '../auth/scopes.ts';
import type { AppEnv, Principal } from '../http/app-env.ts';
import { authenticated, createApi, idParam, json, problems, z } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { sessionView } from '../sessions/session-store.ts';
import { orderFailure, orderOperator, visibleDevice } from './access-routes.ts';
import { openBackgroundAccess } from './background-access.ts';
import { runsAsOf } from './device-session.ts';
import type { DeviceRow } from './device-store.ts';
import { sendOrder } from './send-order.ts';

/** The permission every elevated tool needs (besides the policy's role check). */
const ELEVATED_SCOPE = 'sessions:write';
/** What a refusal for want of {@link ELEVATED_SCOPE} is audited as. */
const NO_SCOPE: OrderResult = { ok: false, code: 'FORBIDDEN', message: 'no permission' };

const routes = {
  listServices: createRoute({
    method: 'get',
    path: '/devices/{id}/services',
    tags: ['devices'],
    summary: `Elevated tools: the device's services as its service manager lists them (Linux: systemd; at most ${MAX_LISTED_SERVICES})`,
    security: authenticated,
    request: { params: idParam },
    responses: {
      200: json(
        z.object({
          services: z.array(serviceInfoSchema),
          total: z.number().int().openapi({ description: 'How many there are, listed or not' }),
        }),
        'The services',
      ),
      ...problems(401, 403, 404, 409, 502, 504),
    },
  }),
  serviceAction: createRoute({
    method: 'post',
    path: '/devices/{id}/services/{name}/{action}',
    tags: ['devices'],
    summary: 'Elevated tools: start, stop or restart a service on the device',
    security: authenticated,
    request: {
      params: idParam.extend({
        name: z
          .string()
          .regex(SERVICE_UNIT_PATTERN)
          .openapi({ description: 'The unit, e.g. cups.service (letters, digits, @._:-)' }),
        action: z.enum(SERVICE_ACTIONS),
      }),
    },
    responses: {
      200: json(z.object({ unit: z.string(), action: z.enum(SERVICE_ACTIONS) }), 'Done'),
      ...problems(400, 401, 403, 404, 409, 502, 504),
    },
  }),
  adminShell: createRoute({
    method: 'post',
    path: '/devices/{id}/admin-shell',
    tags: ['devices'],
    summary:
      "Elevated tools: open an administrator shell on the device, a background session with a shell only, as the resident service's user; the user at the device is told",
    security: authenticated,
    request: { params: idParam },
    responses: {
      201: json(
        z.object({ session: sessionSchema, runsAs: runsAsSchema.optional() }),
        'The session, its device side connected: join it like any other session',
      ),
      ...problems(401, 403, 404, 409, 502, 504),
    },
  }),
  listProcesses: createRoute({
    method: 'get',
    path: '/devices/{id}/processes',
    tags: ['devices'],
    summary: `Elevated tools: the device's processes as its resident service sees them, busiest first (at most ${MAX_LISTED_PROCESSES})`,
    security: authenticated,
    request: {
      params: idParam,
      query: z.object({
        name: z.string().max(100).optional().openapi({ description: 'Part of the process name (any case)' }),
      }),
    },
    responses: {
      200: json(
        z.object({
          processes: z.array(processInfoSchema),
          total: z.number().int().openapi({ description: 'How many matched, listed or not' }),
        }),
        'The processes',
      ),
      ...problems(400, 401, 403, 404, 409, 502, 504),
    },
  }),
  endProcess: createRoute({
    method: 'post',
    path: '/devices/{id}/processes/{pid}/end',
    tags: ['devices'],
    summary: 'Elevated tools: end a process on the device (SIGTERM, then SIGKILL after a grace)',
    security: authenticated,
    request: {
      params: idParam.extend({
        pid: z.coerce
          .number()
          .int()
          .min(1)
          .max(2 ** 31 - 1),
      }),
    },
    responses: {
      200: json(
        z.object({ pid: z.number().int(), name: z.string(), signal: z.enum(['SIGTERM', 'SIGKILL']) }),
        'The process ended',
      ),
      ...problems(400, 401, 403, 404, 409, 502, 504),
    },
  }),
};

/**
 * Elevated tools on resident devices (README, "Elevated tools"): each use is a signed order the
 * resident service carries out where the group's policy enables elevated tools for the operator's
 * role (checked here before signing and again by the device), audited `device.elevated-tool`.
 */
export function deviceElevatedRoutes(services: Services) {
  const app = createApi();
  app.use('/devices/*', requireAuth(services));

  const audit = (
    principal: Principal,
    address: string,
    device: DeviceRow,
    details: Record<string, unknown>,
    result: OrderResult,
  ) =>
    services.audit.record({
      ...auditActor(principal),
      action: 'device.elevated-tool',
      organisationId: device.organisationId,
      address,
      details: {
        deviceId: device.id,
        ...details,
        result: result.ok ? 'ok' : result.code,
        // Whether the device had a console user to tell (README, "Elevated tools").
        ...(result.ok && typeof result.detail?.['told'] === 'boolean' ? { told: result.detail['told'] } : {}),
      },
    });

  /**
   * The scope elevated tools need; a principal without it (an auditor, a read-only token) is refused
   * with 403 FORBIDDEN, and the refusal is audited like any use, as long as the device is one it sees.
   */
  const requireElevatedScope =
    (tool: string): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      const principal = c.get('principal');
      if (!hasScope(principal, ELEVATED_SCOPE)) {
        const device = await visibleDevice(services, principal, c.req.param('id') ?? '');
        await audit(principal, c.get('address'), device, { tool }, NO_SCOPE);
      }
      return requireScope(ELEVATED_SCOPE)(c, next);
    };

  app.openapi({ ...routes.listServices, middleware: [requireElevatedScope('services')] }, async (c) => {
    const principal = c.get('principal');
    const device = await visibleDevice(services, principal, c.req.valid('param').id);
    const result = await sendOrder(services, device.id, {
      kind: 'list-services',
      operator: orderOperator(principal),
    });
    await audit(principal, c.get('address'), device, { tool: 'services' }, result);
    if (!result.ok) throw orderFailure(result);
    const answer = z
      .object({ services: z.array(serviceInfoSchema).max(MAX_LISTED_SERVICES), total: z.number().int() })
      .safeParse(result.detail);
    if (!answer.success) throw new ApiError(502, 'INTERNAL', 'The device answered without a service list.');
    return c.json(answer.data, 200);
  });

  app.openapi(
    { ...routes.serviceAction, middleware: [requireElevatedScope('service-action')] },
    async (c) => {
      const principal = c.get('principal');
      const { id, name, action } = c.req.valid('param');
      const device = await visibleDevice(services, principal, id);
      const result = await sendOrder(services, device.id, {
        kind: 'service-action',
        operator: orderOperator(principal),
        unit: name,
        action,
      });
      await audit(
        principal,
        c.get('address'),
        device,
        { tool: 'service-action', unit: name, action },
        result,
      );
      if (!result.ok) throw orderFailure(result);
      return c.json({ unit: name, action }, 200);
    },
  );

  app.openapi({ ...routes.adminShell, middleware: [requireElevatedScope('admin-shell')] }, async (c) => {
    const principal = c.get('principal');
    const address = c.get('address');
    const device = await visibleDevice(services, principal, c.req.valid('param').id);
    try {
      const { session, detail } = await openBackgroundAccess(services, device, principal, address, true);
      await audit(
        principal,
        address,
        device,
        { tool: 'admin-shell', sessionId: session.id },
        { ok: true, detail },
      );
      return c.json(
        { session: sessionView(session, services.relay.agentAway(session.id)), ...runsAsOf(detail) },
        201,
      );
    } catch (error) {
      if (error instanceof ApiError)
        await audit(
          principal,
          address,
          device,
          { tool: 'admin-shell' },
          {
            ok: false,
            code: error.code,
            message: error.message,
          },
        );
      throw error;
    }
  });

  app.openapi({ ...routes.listProcesses, middleware: [requireElevatedScope('processes')] }, async (c) => {
    const principal = c.get('principal');
    const device = await visibleDevice(services, principal, c.req.valid('param').id);
    const { name } = c.req.valid('query');
    const result = await sendOrder(services, device.id, {
      kind: 'list-processes',
      operator: orderOperator(principal),
      ...(name ? { name } : {}),
    });
    await audit(principal, c.get('address'), device, { tool: 'processes' }, result);
    if (!result.ok) throw orderFailure(result);
    const answer = z
      .object({ processes: z.array(processInfoSchema).max(MAX_LISTED_PROCESSES), total: z.number().int() })
      .safeParse(result.detail);
    if (!answer.success) throw new ApiError(502, 'INTERNAL', 'The device answered without a process list.');
    return c.json(answer.data, 200);
  });

  app.openapi({ ...routes.endProcess, middleware: [requireElevatedScope('end-process')] }, async (c) => {
    const principal = c.get('principal');
    const { id, pid } = c.req.valid('param');
    const device = await visibleDevice(services, principal, id);
    const result = await sendOrder(services, device.id, {
      kind: 'end-process',
      operator: orderOperator(principal),
      pid,
    });
    const name = result.ok && typeof result.detail?.['name'] === 'string' ? result.detail['name'] : undefined;
    await audit(
      principal,
      c.get('address'),
      device,
      { tool: 'end-process', pid, ...(name ? { name } : {}) },
      result,
    );
    if (!result.ok) throw orderFailure(result);
    const signal = result.detail?.['signal'] === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM';
    return c.json({ pid, name: name ?? '', signal }, 200);
  });

  return app;
}

import { createRoute } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { deviceIsWindows } from '../../protocol/api/devices.ts';
import { inertDeviceText } from '../../protocol/device-text.ts';
import {
  MAX_LISTED_PROCESSES,
  MAX_LISTED_SERVICES,
  MAX_REGISTRY_ENTRIES,
  type OrderResult,
  processInfoSchema,
  REGISTRY_KEY_PATTERN,
  registryChangeSchema,
  registryValueSchema,
  SERVICE_ACTIONS,
  SERVICE_NAME_PATTERN,
  SERVICE_UNIT_PATTERN,
  serviceInfoSchema,
} from '../../protocol/index.ts';
import { auditActor, requireAuth, requireScope } from '../auth/authenticate.ts';
import { hasScope } from '../auth/scopes.ts';
import type { AppEnv, Principal } from '../http/app-env.ts';
import { authenticated, createApi, idParam, json, problems, z } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { orderFailure, orderOperator, visibleDevice } from './access-routes.ts';
import { openBackgroundAccess, openedSessionResponse, openedSessionView } from './background-access.ts';
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
    summary: `Elevated tools: the device's services as its service manager lists them (Linux: systemd; Windows: sc or wmic; at most ${MAX_LISTED_SERVICES})`,
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
        name: z.string().regex(SERVICE_NAME_PATTERN).openapi({
          description:
            'Linux: the unit, e.g. cups.service (letters, digits, @._:-); Windows: the service name, e.g. Spooler',
        }),
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
      201: openedSessionResponse,
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
  readRegistry: createRoute({
    method: 'get',
    path: '/devices/{id}/registry',
    tags: ['devices'],
    summary: `Elevated tools, registry editor (Windows): a key's subkeys and values, as reg query shows them (at most ${MAX_REGISTRY_ENTRIES} of each)`,
    security: authenticated,
    request: {
      params: idParam,
      query: z.object({
        key: z
          .string()
          .max(2048)
          .regex(REGISTRY_KEY_PATTERN)
          .openapi({ description: 'The key: HKLM, HKCU, HKU or HKCR, then \\-separated names' }),
      }),
    },
    responses: {
      200: json(
        z.object({
          key: z.string(),
          subkeys: z.array(z.string()),
          values: z.array(registryValueSchema),
          total: z.object({ subkeys: z.number().int(), values: z.number().int() }),
          currentUser: z.string().optional().openapi({
            description:
              "Under HKCU: whose hive it is, the user logged in at the device's console (reported by the device)",
          }),
        }),
        'The key',
      ),
      ...problems(400, 401, 403, 404, 409, 502, 504),
    },
  }),
  changeRegistry: createRoute({
    method: 'post',
    path: '/devices/{id}/registry',
    tags: ['devices'],
    summary:
      'Elevated tools, registry editor (Windows): set a value (creating its key), delete a value, create or delete a key, through reg.exe',
    security: authenticated,
    request: { params: idParam, body: { content: { 'application/json': { schema: registryChangeSchema } } } },
    responses: {
      200: json(
        z.object({ op: z.string(), key: z.string(), name: z.string().optional() }),
        'Done (the data is never echoed)',
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
      if (!deviceIsWindows(device.os) && !SERVICE_UNIT_PATTERN.test(name))
        throw new ApiError(400, 'VALIDATION_FAILED', 'Not a service unit name (e.g. cups.service).');
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
      return c.json(openedSessionView(services, { session, detail }), 201);
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

  app.openapi({ ...routes.readRegistry, middleware: [requireElevatedScope('registry')] }, async (c) => {
    const principal = c.get('principal');
    const device = await visibleDevice(services, principal, c.req.valid('param').id);
    const { key } = c.req.valid('query');
    const result = await sendOrder(services, device.id, {
      kind: 'registry-read',
      operator: orderOperator(principal),
      key,
    });
    await audit(principal, c.get('address'), device, { tool: 'registry', key }, result);
    if (!result.ok) throw orderFailure(result);
    const answer = z
      .object({
        key: z.string(),
        subkeys: z.array(z.string().max(255)).max(MAX_REGISTRY_ENTRIES),
        values: z.array(registryValueSchema).max(MAX_REGISTRY_ENTRIES),
        total: z.object({ subkeys: z.number().int(), values: z.number().int() }),
        currentUser: z.string().optional(),
      })
      .safeParse(result.detail);
    if (!answer.success) throw new ApiError(502, 'INTERNAL', 'The device answered without the key.');
    const { currentUser, ...listing } = answer.data;
    const user = currentUser === undefined ? {} : { currentUser: inertDeviceText(currentUser, 100) };
    return c.json({ ...listing, ...user }, 200);
  });

  app.openapi(
    { ...routes.changeRegistry, middleware: [requireElevatedScope('registry-change')] },
    async (c) => {
      const principal = c.get('principal');
      const device = await visibleDevice(services, principal, c.req.valid('param').id);
      const change = c.req.valid('json');
      // The key and the value's name are audited, never the data (it may be a secret).
      const what = { op: change.op, key: change.key, ...('name' in change ? { name: change.name } : {}) };
      const result = await sendOrder(services, device.id, {
        kind: 'registry-change',
        operator: orderOperator(principal),
        change,
      });
      await audit(principal, c.get('address'), device, { tool: 'registry-change', ...what }, result);
      if (!result.ok) throw orderFailure(result);
      return c.json(what, 200);
    },
  );

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

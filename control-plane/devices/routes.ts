import { createRoute } from '@hono/zod-openapi';
import { DEVICE_STATUSES } from '../../protocol/api/devices.ts';
import { auditActor, requireAuth, requireScope } from '../auth/authenticate.ts';
import { canSeeOrganisation, organisationScope } from '../auth/scopes.ts';
import type { Principal } from '../http/app-env.ts';
import { authenticated, createApi, idParam, json, page, problems, z } from '../http/openapi.ts';
import { pageOf, pageQuery } from '../http/paging.ts';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { openBackgroundAccess, openedSessionResponse, openedSessionView } from './background-access.ts';
import type { DeviceRow } from './device-store.ts';
import { deviceSchema, deviceView } from './device-view.ts';
import { removeDevice } from './remove-device.ts';

const listQuery = pageQuery.extend({
  search: z.string().max(100).optional().openapi({ description: 'Part of the host name' }),
  group: z.string().max(64).optional().openapi({ description: 'A device group id' }),
  status: z
    .enum(DEVICE_STATUSES)
    .optional()
    .openapi({ description: 'online or offline; removed lists uninstalled and forgotten devices' }),
});

const routes = {
  list: createRoute({
    method: 'get',
    path: '/devices',
    tags: ['devices'],
    summary: 'List enrolled devices: search by host name, filter by group and online status',
    security: authenticated,
    request: { query: listQuery },
    responses: { 200: json(page(deviceSchema), 'Devices'), ...problems(400, 401, 403) },
  }),
  get: createRoute({
    method: 'get',
    path: '/devices/{id}',
    tags: ['devices'],
    summary: 'One device',
    security: authenticated,
    request: { params: idParam },
    responses: { 200: json(deviceSchema, 'The device'), ...problems(401, 403, 404) },
  }),
  backgroundAccess: createRoute({
    method: 'post',
    path: '/devices/{id}/background-access',
    tags: ['devices'],
    summary:
      'Open a background-access session on a resident device: shell and files, no screen, as the service\'s user; the user is told only where the group\'s policy says so (README, "Background access")',
    security: authenticated,
    request: { params: idParam },
    responses: {
      201: openedSessionResponse,
      ...problems(401, 403, 404, 409, 504),
    },
  }),
  forget: createRoute({
    method: 'delete',
    path: '/devices/{id}',
    tags: ['devices'],
    summary:
      'Forget a device: its identity stops working at once and its link is closed; it must enrol again',
    security: authenticated,
    request: { params: idParam },
    responses: { 204: { description: 'Forgotten' }, ...problems(401, 403, 404) },
  }),
};

/** Enrolled devices for operators: who reads them, who forgets them (README, "Devices"). */
export function deviceRoutes(services: Services) {
  const app = createApi();
  app.use('/devices', requireAuth(services));
  app.use('/devices/*', requireAuth(services));
  const { store, hub } = services.devices;
  const view = (row: DeviceRow) => deviceView(row, hub.lastHeard(row.id));

  const visible = async (principal: Principal, id: string): Promise<DeviceRow> => {
    const device = await store.get(id);
    if (!device || !canSeeOrganisation(principal, device.organisationId))
      throw new ApiError(404, 'NOT_FOUND', 'No such device.');
    return device;
  };

  app.openapi({ ...routes.list, middleware: [requireScope('devices:read')] }, async (c) => {
    const query = c.req.valid('query');
    const rows = await store.list(
      {
        organisationId: organisationScope(c.get('principal')),
        groupId: query.group,
        search: query.search,
        status: query.status,
      },
      query,
    );
    return c.json(pageOf(rows, query.limit, view), 200);
  });

  app.openapi({ ...routes.get, middleware: [requireScope('devices:read')] }, async (c) => {
    return c.json(view(await visible(c.get('principal'), c.req.valid('param').id)), 200);
  });

  app.openapi(
    {
      ...routes.backgroundAccess,
      middleware: [requireScope('devices:read'), requireScope('sessions:write')],
    },
    async (c) => {
      const principal = c.get('principal');
      const device = await visible(principal, c.req.valid('param').id);
      const opened = await openBackgroundAccess(services, device, principal, c.get('address'));
      return c.json(openedSessionView(services, opened), 201);
    },
  );

  app.openapi({ ...routes.forget, middleware: [requireScope('devices:write')] }, async (c) => {
    const principal = c.get('principal');
    const device = await visible(principal, c.req.valid('param').id);
    if (!(await removeDevice(services, device, 'forgotten', auditActor(principal), c.get('address'))))
      throw new ApiError(404, 'NOT_FOUND', 'This device was removed already.');
    return c.body(null, 204);
  });

  return app;
}

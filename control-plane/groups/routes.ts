import { createRoute } from '@hono/zod-openapi';
import {
  createGroupSchema,
  deviceGroupSchema,
  registrationKeySchema,
  renameGroupSchema,
} from '../../protocol/api/groups.ts';
import { DEFAULT_POLICY, policySchema } from '../../protocol/index.ts';
import { auditActor, requireAuth, requireScope } from '../auth/authenticate.ts';
import { canSeeOrganisation, organisationScope } from '../auth/scopes.ts';
import type { Principal } from '../http/app-env.ts';
import { idempotent } from '../http/idempotency.ts';
import {
  authenticated,
  createApi,
  idempotencyHeader,
  idParam,
  json,
  jsonBody,
  problems,
} from '../http/openapi.ts';
import { pageOf } from '../http/paging.ts';
import { ApiError } from '../http/problem.ts';
import { getRoute, listRoute } from '../http/route-shapes.ts';
import type { Services } from '../services.ts';
import { type GroupRow, groupView } from './group-store.ts';

const routes = {
  list: listRoute({
    path: '/groups',
    tag: 'groups',
    summary: 'List device groups and their policies',
    item: deviceGroupSchema,
    description: 'Groups',
  }),
  get: getRoute({
    path: '/groups/{id}',
    tag: 'groups',
    summary: 'One device group',
    item: deviceGroupSchema,
    description: 'The group',
  }),
  create: createRoute({
    method: 'post',
    path: '/groups',
    tags: ['groups'],
    summary: 'Create a device group; its policy starts from the defaults',
    security: authenticated,
    request: {
      headers: idempotencyHeader,
      body: jsonBody(createGroupSchema),
    },
    responses: { 201: json(deviceGroupSchema, 'The new group'), ...problems(400, 401, 403, 404, 422) },
  }),
  rename: createRoute({
    method: 'patch',
    path: '/groups/{id}',
    tags: ['groups'],
    summary: 'Rename a device group',
    security: authenticated,
    request: { params: idParam, body: jsonBody(renameGroupSchema) },
    responses: { 200: json(deviceGroupSchema, 'The group'), ...problems(400, 401, 403, 404) },
  }),
  setPolicy: createRoute({
    method: 'put',
    path: '/groups/{id}/policy',
    tags: ['groups'],
    summary:
      "Replace a group's policy (audited with before and after); applies to sessions created afterwards",
    security: authenticated,
    request: { params: idParam, body: jsonBody(policySchema) },
    responses: {
      200: json(deviceGroupSchema, 'The group with its new policy'),
      ...problems(400, 401, 403, 404),
    },
  }),
  registrationKey: createRoute({
    method: 'post',
    path: '/groups/{id}/registration-key',
    tags: ['groups'],
    summary: 'Issue a new registration key that enrols agents into this group (shown once)',
    security: authenticated,
    request: { params: idParam },
    responses: {
      200: json(registrationKeySchema, 'The key'),
      ...problems(401, 403, 404),
    },
  }),
};

/** Device groups and their policies: managers switch features on per group; everyone else reads. */
export function groupRoutes(services: Services) {
  const app = createApi();
  app.use('/groups', requireAuth(services));
  app.use('/groups/*', requireAuth(services));
  app.use('/groups', async (c, next) => (c.req.method === 'POST' ? idempotent(services)(c, next) : next()));

  const visible = async (principal: Principal, id: string): Promise<GroupRow> => {
    const group = await services.groups.get(id);
    if (!group || !canSeeOrganisation(principal, group.organisationId))
      throw new ApiError(404, 'NOT_FOUND', 'No such device group.');
    return group;
  };

  app.openapi({ ...routes.list, middleware: [requireScope('groups:read')] }, async (c) => {
    const query = c.req.valid('query');
    const rows = await services.groups.list(organisationScope(c.get('principal')), query);
    return c.json(pageOf(rows, query.limit, groupView), 200);
  });

  app.openapi({ ...routes.get, middleware: [requireScope('groups:read')] }, async (c) => {
    return c.json(groupView(await visible(c.get('principal'), c.req.valid('param').id)), 200);
  });

  app.openapi({ ...routes.create, middleware: [requireScope('groups:write')] }, async (c) => {
    const principal = c.get('principal');
    const body = c.req.valid('json');
    const organisationId = body.organisationId ?? principal.operator.organisationId;
    const organisation = await services.organisations.get(organisationId);
    if (!organisation || !canSeeOrganisation(principal, organisationId))
      throw new ApiError(404, 'NOT_FOUND', 'No such organisation.');
    const group = await services.groups.create({
      organisationId,
      name: body.name,
      policy: body.policy ?? { ...DEFAULT_POLICY },
    });
    await services.audit.record({
      ...auditActor(principal),
      action: 'group.create',
      organisationId: group.organisationId,
      address: c.get('address'),
      details: { groupId: group.id, name: group.name, policy: group.policy },
    });
    return c.json(groupView(group), 201);
  });

  app.openapi({ ...routes.rename, middleware: [requireScope('groups:write')] }, async (c) => {
    const principal = c.get('principal');
    const group = await visible(principal, c.req.valid('param').id);
    const renamed = await services.groups.rename(group.id, c.req.valid('json').name);
    await services.audit.record({
      ...auditActor(principal),
      action: 'group.rename',
      organisationId: group.organisationId,
      address: c.get('address'),
      details: { groupId: group.id, before: group.name, after: renamed!.name },
    });
    return c.json(groupView(renamed!), 200);
  });

  app.openapi({ ...routes.setPolicy, middleware: [requireScope('groups:write')] }, async (c) => {
    const principal = c.get('principal');
    const group = await visible(principal, c.req.valid('param').id);
    const before = group.policy;
    const updated = await services.groups.setPolicy(group.id, c.req.valid('json'));
    await services.audit.record({
      ...auditActor(principal),
      action: 'policy.update',
      organisationId: group.organisationId,
      address: c.get('address'),
      details: { groupId: group.id, before, after: updated!.policy },
    });
    return c.json(groupView(updated!), 200);
  });

  app.openapi({ ...routes.registrationKey, middleware: [requireScope('groups:write')] }, async (c) => {
    const principal = c.get('principal');
    const group = await visible(principal, c.req.valid('param').id);
    const registrationKey = await services.groups.rotateRegistrationKey(group.id);
    await services.audit.record({
      ...auditActor(principal),
      action: 'group.registration-key',
      organisationId: group.organisationId,
      address: c.get('address'),
      details: { groupId: group.id },
    });
    return c.json({ registrationKey }, 200);
  });

  return app;
}

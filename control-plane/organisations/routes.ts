import { createRoute } from '@hono/zod-openapi';
import { createOrganisationSchema, organisationSchema } from '../../protocol/api/organisations.ts';
import { auditActor, requireAuth, requireScope } from '../auth/authenticate.ts';
import { organisationScope } from '../auth/scopes.ts';
import { idempotent } from '../http/idempotency.ts';
import {
  authenticated,
  createApi,
  idempotencyHeader,
  json,
  jsonBody,
  page,
  problems,
} from '../http/openapi.ts';
import { pageOf, pageQuery } from '../http/paging.ts';
import type { Services } from '../services.ts';
import type { OrganisationRow } from './organisation-store.ts';

function organisationView(row: OrganisationRow) {
  return { id: row.id, name: row.name, createdAt: row.createdAt.toISOString() };
}

const routes = {
  list: createRoute({
    method: 'get',
    path: '/organisations',
    tags: ['organisations'],
    summary: 'List organisations (administrators: all; others: their own)',
    security: authenticated,
    request: { query: pageQuery },
    responses: { 200: json(page(organisationSchema), 'Organisations'), ...problems(400, 401) },
  }),
  create: createRoute({
    method: 'post',
    path: '/organisations',
    tags: ['organisations'],
    summary: 'Create an organisation with its default device group',
    security: authenticated,
    request: { headers: idempotencyHeader, body: jsonBody(createOrganisationSchema) },
    responses: { 201: json(organisationSchema, 'The new organisation'), ...problems(400, 401, 403, 422) },
  }),
};

/** Organisations: members see and join their organisation's sessions; administrators see all. */
export function organisationRoutes(services: Services) {
  const app = createApi();
  app.use('/organisations', requireAuth(services));
  app.use('/organisations', async (c, next) =>
    c.req.method === 'POST' ? idempotent(services)(c, next) : next(),
  );

  app.openapi(routes.list, async (c) => {
    const scope = organisationScope(c.get('principal'));
    const query = c.req.valid('query');
    const rows = await services.organisations.list(scope, query);
    return c.json(pageOf(rows, query.limit, organisationView), 200);
  });

  app.openapi({ ...routes.create, middleware: [requireScope('admin')] }, async (c) => {
    const row = await services.organisations.create(c.req.valid('json').name);
    await services.groups.defaultFor(row.id);
    await services.audit.record({
      ...auditActor(c.get('principal')),
      action: 'organisation.create',
      organisationId: row.id,
      address: c.get('address'),
      details: { organisationId: row.id, name: row.name },
    });
    return c.json(organisationView(row), 201);
  });

  return app;
}

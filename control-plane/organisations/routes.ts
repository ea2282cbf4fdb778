import { randomUUID } from 'node:crypto';
import { createRoute } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { createOrganisationSchema, organisationSchema } from '../../protocol/api/organisations.ts';
import { auditActor, requireAuth, requireScope } from '../auth/authenticate.ts';
import { organisationScope } from '../auth/scopes.ts';
import { organisations } from '../db/schema.ts';
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
import { pageKeyset, pageOf, pageQuery } from '../http/paging.ts';
import type { Services } from '../services.ts';

function organisationView(row: typeof organisations.$inferSelect) {
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
    const keyset = pageKeyset(organisations, query);
    const rows = await services.db
      .select()
      .from(organisations)
      .where(and(scope ? eq(organisations.id, scope) : undefined, keyset.where))
      .orderBy(...keyset.orderBy)
      .limit(keyset.fetch);
    return c.json(pageOf(rows, query.limit, organisationView), 200);
  });

  app.openapi({ ...routes.create, middleware: [requireScope('admin')] }, async (c) => {
    const [row] = await services.db
      .insert(organisations)
      .values({ id: randomUUID(), name: c.req.valid('json').name, createdAt: new Date() })
      .returning();
    await services.groups.defaultFor(row!.id);
    await services.audit.record({
      ...auditActor(c.get('principal')),
      action: 'organisation.create',
      organisationId: row!.id,
      address: c.get('address'),
      details: { organisationId: row!.id, name: row!.name },
    });
    return c.json(organisationView(row!), 201);
  });

  return app;
}

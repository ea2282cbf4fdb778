import { createRoute } from '@hono/zod-openapi';
import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { auditEventSchema } from '../../protocol/api/audit.ts';
import { requireAuth, requireScope } from '../auth/authenticate.ts';
import { organisationScope } from '../auth/scopes.ts';
import { auditEvents } from '../db/schema.ts';
import { authenticated, createApi, json, page, problems, z } from '../http/openapi.ts';
import type { Services } from '../services.ts';

const listRoute = createRoute({
  method: 'get',
  path: '/audit-events',
  tags: ['audit'],
  summary: 'Page through audit events, newest first',
  security: authenticated,
  request: {
    query: z.object({
      sessionId: z.string().max(64).optional(),
      action: z.string().max(100).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
      cursor: z.coerce
        .number()
        .int()
        .positive()
        .optional()
        .openapi({ description: 'nextCursor of the previous page' }),
    }),
  },
  responses: { 200: json(page(auditEventSchema), 'A page of audit events'), ...problems(400, 401, 403) },
});

/** The audit log, for auditors, managers and administrators. */
export function auditRoutes(services: Services) {
  const app = createApi();
  app.use('/audit-events', requireAuth(services));

  app.openapi({ ...listRoute, middleware: [requireScope('audit:read')] }, async (c) => {
    const { sessionId, action, limit, cursor } = c.req.valid('query');
    const conditions: SQL[] = [];
    if (sessionId) conditions.push(eq(auditEvents.sessionId, sessionId));
    if (action) conditions.push(eq(auditEvents.action, action));
    if (cursor) conditions.push(lt(auditEvents.id, cursor));
    const scope = organisationScope(c.get('principal'));
    if (scope) conditions.push(eq(auditEvents.organisationId, scope));
    const rows = await services.db
      .select()
      .from(auditEvents)
      .where(conditions.length ? and(...conditions) : undefined)
      .orderBy(desc(auditEvents.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map((row) => ({ ...row, at: row.at.toISOString() }));
    const nextCursor = rows.length > limit ? String(items.at(-1)!.id) : null;
    return c.json({ items, nextCursor }, 200);
  });

  return app;
}

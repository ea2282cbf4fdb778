import { createRoute } from '@hono/zod-openapi';
import { and, asc, desc, eq, gt, lt, lte, type SQL } from 'drizzle-orm';
import { CompactSign } from 'jose';
import { auditEventSchema } from '../../protocol/api/audit.ts';
import { auditActor, requireAuth, requireScope } from '../auth/authenticate.ts';
import { canSeeOrganisation, organisationScope } from '../auth/scopes.ts';
import { auditEvents, auditHead } from '../db/schema.ts';
import { authenticated, createApi, json, page, problems, z } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import { SIGNING_ALG } from '../keys/signing-keys.ts';
import type { Services } from '../services.ts';
import { bodyHashOf, GENESIS_HASH } from './chain.ts';

/** Rows read per query while exporting: the export never holds the whole log. */
const EXPORT_PAGE = 500;

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

const exportRoute = createRoute({
  method: 'get',
  path: '/audit-events/export',
  tags: ['audit'],
  summary: 'Export the hash-chained audit trail as JSON lines, ending with a signed head',
  description:
    'One line per chained event, oldest first: `{seq, prevHash, hash, event}`, or `{seq, prevHash, hash, bodyHash}` ' +
    "for another organisation's event (auditors see only their own). The last line is `{checkpoint}`: a JWS " +
    "(EdDSA, keys at /.well-known/jwks.json) over the server's stored head `{seq, hash}`. Verify with " +
    '`npm run audit:verify -- <file> <jwks file or URL>` (README, "Audit trail"). Administrators and auditors only.',
  security: authenticated,
  responses: {
    200: {
      description: 'The audit trail, one JSON object per line',
      content: { 'application/x-ndjson': { schema: z.string() } },
    },
    ...problems(401, 403),
  },
});

/** The audit log, for auditors, managers and administrators. */
export function auditRoutes(services: Services) {
  const app = createApi();
  app.use('/audit-events', requireAuth(services));
  app.use('/audit-events/*', requireAuth(services));

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

  app.openapi({ ...exportRoute, middleware: [requireScope('audit:read')] }, async (c) => {
    const principal = c.get('principal');
    const role = principal.operator.role;
    if (role !== 'admin' && role !== 'auditor')
      throw new ApiError(403, 'FORBIDDEN', 'Only administrators and auditors export the audit trail.');
    await services.audit.record({
      ...auditActor(principal),
      action: 'audit.export',
      address: c.get('address'),
    });
    // The export ends at the head stored now; later events belong to the next export.
    const [head] = await services.db.select().from(auditHead).where(eq(auditHead.id, 1));
    const headSeq = head?.seq ?? 0;
    const checkpoint = await new CompactSign(
      new TextEncoder().encode(JSON.stringify({ seq: headSeq, hash: head?.hash ?? GENESIS_HASH })),
    )
      .setProtectedHeader({ alg: SIGNING_ALG, kid: services.keys.current.kid, typ: 'lifeline-audit-head' })
      .sign(services.keys.current.privateKey);
    const encoder = new TextEncoder();
    let after = 0;
    let finished = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (finished) return;
        const rows = await services.db
          .select()
          .from(auditEvents)
          .where(and(gt(auditEvents.seq, after), lte(auditEvents.seq, headSeq)))
          .orderBy(asc(auditEvents.seq))
          .limit(EXPORT_PAGE);
        let text = '';
        for (const row of rows) {
          const { seq, prevHash, hash, id: _id, ...fields } = row;
          const line = canSeeOrganisation(principal, row.organisationId)
            ? { seq, prevHash, hash, event: { ...fields, at: fields.at.getTime() } }
            : { seq, prevHash, hash, bodyHash: bodyHashOf({ ...fields, at: fields.at.getTime() }) };
          text += `${JSON.stringify(line)}\n`;
          after = seq!;
        }
        if (rows.length < EXPORT_PAGE) {
          text += `${JSON.stringify({ checkpoint })}\n`;
          finished = true;
        }
        controller.enqueue(encoder.encode(text));
        if (finished) controller.close();
      },
    });
    // The typed responses take a media type naming JSON for one JSON document; this one streams lines.
    return new Response(body, {
      status: 200,
      headers: {
        'Content-Type': 'application/x-ndjson; charset=utf-8',
        'Content-Disposition': 'attachment; filename="audit-trail.jsonl"',
      },
    }) as never;
  });

  return app;
}

import { randomUUID } from 'node:crypto';
import { createRoute } from '@hono/zod-openapi';
import { createOperatorSchema, operatorSchema, updateOperatorSchema } from '../../protocol/api/operators.ts';
import { auditActor, requireAuth, requireScope } from '../auth/authenticate.ts';
import { hashPassword } from '../auth/passwords.ts';
import { operatorView } from '../auth/routes.ts';
import { canSeeOrganisation, organisationScope } from '../auth/scopes.ts';
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
import { listRoute } from '../http/route-shapes.ts';
import type { Services } from '../services.ts';

const routes = {
  list: listRoute({
    path: '/operators',
    tag: 'operators',
    summary: "List operators (administrators: all; managers: their organisation's)",
    item: operatorSchema,
    description: 'Operators',
  }),
  create: createRoute({
    method: 'post',
    path: '/operators',
    tags: ['operators'],
    summary: 'Create an operator account',
    security: authenticated,
    request: {
      headers: idempotencyHeader,
      body: jsonBody(createOperatorSchema),
    },
    responses: { 201: json(operatorSchema, 'The new operator'), ...problems(400, 401, 403, 404, 409, 422) },
  }),
  update: createRoute({
    method: 'patch',
    path: '/operators/{id}',
    tags: ['operators'],
    summary: "Change an operator's name, role, password or organisation, or disable them",
    security: authenticated,
    request: {
      params: idParam,
      body: jsonBody(updateOperatorSchema),
    },
    responses: { 200: json(operatorSchema, 'The operator'), ...problems(400, 401, 403, 404, 409) },
  }),
};

/** Operator accounts, managed by administrators. Disabling one closes every socket they hold at once. */
export function operatorRoutes(services: Services) {
  const app = createApi();
  app.use('/operators', requireAuth(services));
  app.use('/operators/*', requireAuth(services));
  app.use('/operators', async (c, next) =>
    c.req.method === 'POST' ? idempotent(services)(c, next) : next(),
  );

  app.openapi({ ...routes.list, middleware: [requireScope('operators:read')] }, async (c) => {
    const scope = organisationScope(c.get('principal'));
    const query = c.req.valid('query');
    const rows = await services.accounts.operators.list(scope, query);
    return c.json(pageOf(rows, query.limit, operatorView), 200);
  });

  app.openapi({ ...routes.create, middleware: [requireScope('admin')] }, async (c) => {
    const body = c.req.valid('json');
    if (!(await services.organisations.get(body.organisationId)))
      throw new ApiError(404, 'NOT_FOUND', 'No such organisation.');
    if (await services.accounts.operators.byUsername(body.username))
      throw new ApiError(409, 'CONFLICT', `The username "${body.username}" is taken.`);
    const row = await services.accounts.operators.create({
      id: randomUUID(),
      organisationId: body.organisationId,
      username: body.username,
      name: body.name,
      passwordHash: await hashPassword(body.password),
      role: body.role,
      createdAt: new Date(),
    });
    await services.audit.record({
      ...auditActor(c.get('principal')),
      action: 'operator.create',
      organisationId: row.organisationId,
      address: c.get('address'),
      details: {
        operatorId: row.id,
        username: row.username,
        role: row.role,
        organisationId: row.organisationId,
      },
    });
    return c.json(operatorView(row), 201);
  });

  app.openapi({ ...routes.update, middleware: [requireScope('admin')] }, async (c) => {
    const principal = c.get('principal');
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const before = await services.accounts.operators.get(id);
    if (!before || !canSeeOrganisation(principal, before.organisationId))
      throw new ApiError(404, 'NOT_FOUND', 'No such operator.');
    if (body.organisationId !== undefined && !(await services.organisations.get(body.organisationId)))
      throw new ApiError(404, 'NOT_FOUND', 'No such organisation.');
    if (id === principal.operator.id && (body.disabled || (body.role && body.role !== 'admin'))) {
      throw new ApiError(
        409,
        'CONFLICT',
        'You cannot disable yourself or take away your own administrator role.',
      );
    }
    const after = await services.accounts.operators.update(id, {
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.role !== undefined ? { role: body.role } : {}),
      ...(body.organisationId !== undefined ? { organisationId: body.organisationId } : {}),
      ...(body.password !== undefined ? { passwordHash: await hashPassword(body.password) } : {}),
      ...(body.disabled !== undefined ? { disabledAt: body.disabled ? new Date() : null } : {}),
      ...(body.resetSecondFactor ? { totpSecret: null, totpEnabledAt: null, totpLastStep: null } : {}),
    });
    if (!after) throw new ApiError(404, 'NOT_FOUND', 'No such operator.');
    if (
      body.disabled ||
      body.resetSecondFactor ||
      body.password !== undefined ||
      (body.role && body.role !== before.role) ||
      (body.organisationId && body.organisationId !== before.organisationId)
    ) {
      // Whatever they held was granted under the old account state: revoke logins and close sockets now.
      await services.accounts.logins.revokeAllOf(id);
      services.relay.disconnectOperator(id);
    }
    await services.audit.record({
      ...auditActor(principal),
      action: body.disabled ? 'operator.disable' : 'operator.update',
      organisationId: after.organisationId,
      address: c.get('address'),
      details: {
        operatorId: id,
        before: {
          name: before.name,
          role: before.role,
          organisationId: before.organisationId,
          disabled: before.disabledAt !== null,
        },
        after: {
          name: after.name,
          role: after.role,
          organisationId: after.organisationId,
          disabled: after.disabledAt !== null,
        },
        passwordChanged: body.password !== undefined,
        secondFactorReset: body.resetSecondFactor === true,
      },
    });
    return c.json(operatorView(after), 200);
  });

  return app;
}

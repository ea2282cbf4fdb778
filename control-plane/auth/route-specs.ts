import { createRoute } from '@hono/zod-openapi';
import {
  apiTokenSchema,
  createApiTokenSchema,
  identitySchema,
  loginRequestSchema,
  loginResultSchema,
  newApiTokenSchema,
  operatorSchema,
  totpSetupSchema,
} from '../../protocol/api/operators.ts';
import {
  authenticated,
  cookieAuth,
  idempotencyHeader,
  idParam,
  json,
  jsonBody,
  problems,
  z,
} from '../http/openapi.ts';
import { listRoute } from '../http/route-shapes.ts';

/** Login, second factor, who-am-I and API tokens, as the OpenAPI document describes them (`routes.ts` serves them). */
export const authRouteSpecs = {
  login: createRoute({
    method: 'post',
    path: '/auth/login',
    tags: ['auth'],
    summary: 'Log in to the console; sets an HttpOnly, SameSite=Strict cookie',
    request: {
      body: jsonBody(loginRequestSchema),
    },
    responses: {
      200: json(loginResultSchema, 'Logged in: who, what they may do, and when the login expires'),
      ...problems(400, 401, 403, 429),
    },
  }),
  logout: createRoute({
    method: 'post',
    path: '/auth/logout',
    tags: ['auth'],
    summary: "Log out; closes this login's sockets",
    security: [cookieAuth],
    responses: { 204: { description: 'Logged out' }, ...problems(401) },
  }),
  me: createRoute({
    method: 'get',
    path: '/auth/me',
    tags: ['auth'],
    summary: 'Who is logged in, and what they may do',
    security: authenticated,
    responses: {
      200: json(identitySchema, 'The current operator'),
      ...problems(401),
    },
  }),
  totpSetup: createRoute({
    method: 'post',
    path: '/auth/totp/setup',
    tags: ['auth'],
    summary: 'Start turning on a second factor: returns a new secret to add to an authenticator app',
    security: [cookieAuth],
    responses: {
      200: json(totpSetupSchema, 'The pending secret'),
      ...problems(401, 409),
    },
  }),
  totpEnable: createRoute({
    method: 'post',
    path: '/auth/totp/enable',
    tags: ['auth'],
    summary: 'Confirm the second factor with a current code',
    security: [cookieAuth],
    request: { body: jsonBody(z.object({ code: z.string().min(6).max(10) })) },
    responses: {
      200: json(z.object({ operator: operatorSchema }), 'Second factor on'),
      ...problems(400, 401, 409),
    },
  }),
  createToken: createRoute({
    method: 'post',
    path: '/tokens',
    tags: ['tokens'],
    summary: 'Create an API token for a script; the token is shown once',
    security: authenticated,
    request: {
      headers: idempotencyHeader,
      body: jsonBody(createApiTokenSchema),
    },
    responses: {
      201: json(newApiTokenSchema, 'The token, shown this once'),
      ...problems(400, 401, 403, 422),
    },
  }),
  listTokens: listRoute({
    path: '/tokens',
    tag: 'tokens',
    summary: 'List API tokens that are not revoked',
    item: apiTokenSchema,
    description: 'Tokens',
  }),
  revokeToken: createRoute({
    method: 'delete',
    path: '/tokens/{id}',
    tags: ['tokens'],
    summary: 'Revoke an API token',
    security: authenticated,
    request: { params: idParam },
    responses: { 204: { description: 'Revoked' }, ...problems(401, 403, 404) },
  }),
};

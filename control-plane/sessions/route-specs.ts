import { createRoute } from '@hono/zod-openapi';
import {
  createSessionSchema,
  redeemCodeSchema,
  SESSION_STATUSES,
  sessionCodeSchema,
  sessionJoinSchema,
  sessionSchema,
  sessionWaitSchema,
} from '../../protocol/api/sessions.ts';
import {
  authenticated,
  idempotencyHeader,
  idParam,
  json,
  jsonBody,
  page,
  problems,
  z,
} from '../http/openapi.ts';
import { getRoute } from '../http/route-shapes.ts';

/** Longest a wait request is held open, in seconds. */
export const MAX_WAIT_SECONDS = 60;

/** The operators' session routes, as the OpenAPI document describes them (`routes.ts` serves them). */
export const sessionRouteSpecs = {
  create: createRoute({
    method: 'post',
    path: '/sessions',
    tags: ['sessions'],
    summary: 'Create a session and get its code and download links (operator-first flow)',
    security: authenticated,
    request: {
      headers: idempotencyHeader,
      body: jsonBody(createSessionSchema),
    },
    responses: {
      201: json(sessionCodeSchema, 'The new session with its code'),
      ...problems(400, 401, 403, 404, 422),
    },
  }),
  renewCode: createRoute({
    method: 'post',
    path: '/sessions/{id}/code',
    tags: ['sessions'],
    summary: 'Request a new code for a waiting session (the old one stops working)',
    security: authenticated,
    request: { params: idParam },
    responses: { 200: json(sessionCodeSchema, 'The new code'), ...problems(401, 403, 404, 409) },
  }),
  extend: createRoute({
    method: 'post',
    path: '/sessions/{id}/extend',
    tags: ['sessions'],
    summary: "Extend a waiting session's code by its full lifetime",
    security: authenticated,
    request: { params: idParam },
    responses: {
      200: json(sessionSchema, 'The session with its new expiry'),
      ...problems(401, 403, 404, 409),
    },
  }),
  redeem: createRoute({
    method: 'post',
    path: '/sessions/redeem',
    tags: ['sessions'],
    summary: 'Redeem the code an end user reads out (user-first flow)',
    security: authenticated,
    request: { body: jsonBody(redeemCodeSchema) },
    responses: {
      200: json(sessionJoinSchema, 'The session and a relay join token'),
      ...problems(400, 401, 403, 404, 409, 410, 429),
    },
  }),
  join: createRoute({
    method: 'post',
    path: '/sessions/{id}/join',
    tags: ['sessions'],
    summary: 'Get a relay join token for a session (rejoin, or join an operator-first session)',
    security: authenticated,
    request: { params: idParam },
    responses: {
      200: json(sessionJoinSchema, 'The session and a relay join token'),
      ...problems(401, 403, 404, 409, 410),
    },
  }),
  list: createRoute({
    method: 'get',
    path: '/sessions',
    tags: ['sessions'],
    summary: 'List sessions, newest first',
    security: authenticated,
    request: {
      query: z.object({
        status: z.enum(SESSION_STATUSES).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page' }),
      }),
    },
    responses: { 200: json(page(sessionSchema), 'A page of sessions'), ...problems(400, 401, 403) },
  }),
  get: getRoute({
    path: '/sessions/{id}',
    tag: 'sessions',
    summary: 'One session',
    item: sessionSchema,
    description: 'The session',
  }),
  wait: createRoute({
    method: 'get',
    path: '/sessions/{id}/wait',
    tags: ['sessions'],
    summary:
      'Long-poll until the session reaches a state (agent connected, active, ended) or the timeout passes',
    security: authenticated,
    request: {
      params: idParam,
      query: z.object({
        until: z.enum(['agent-connected', 'active', 'ended']).default('active'),
        timeout: z.coerce.number().int().min(0).max(MAX_WAIT_SECONDS).default(30),
      }),
    },
    responses: {
      200: json(sessionWaitSchema, 'The session; `reached` tells whether it got there'),
      ...problems(400, 401, 403, 404),
    },
  }),
  end: createRoute({
    method: 'post',
    path: '/sessions/{id}/end',
    tags: ['sessions'],
    summary: 'End (or cancel) a session',
    security: authenticated,
    request: { params: idParam },
    responses: { 200: json(sessionSchema, 'The ended session'), ...problems(401, 403, 404) },
  }),
};

import { createRoute } from '@hono/zod-openapi';
import {
  agentInvitationRequestSchema,
  agentInvitationSchema,
  invitationStatusSchema,
  openInvitationSchema,
} from '../../protocol/api/invitations.ts';
import { sessionJoinSchema } from '../../protocol/api/sessions.ts';
import { authenticated, idParam, json, jsonBody, problems } from '../http/openapi.ts';
import { getRoute } from '../http/route-shapes.ts';

/** The invitation routes, as the OpenAPI document describes them (`routes.ts` serves them). */
export const invitationRouteSpecs = {
  create: createRoute({
    method: 'post',
    path: '/agent/invitations',
    tags: ['agent'],
    summary:
      'An agent started by an end user creates an invitation: a link and a password for a helper (no code)',
    request: { body: jsonBody(agentInvitationRequestSchema) },
    responses: {
      201: json(agentInvitationSchema, 'The session, its relay grant and the link to send the helper'),
      ...problems(400, 403, 422, 429),
    },
  }),
  status: getRoute({
    path: '/invitations/{id}',
    tag: 'invitations',
    summary: 'Whether an invitation can still be opened, and until when',
    item: invitationStatusSchema,
    description: 'The invitation',
  }),
  open: createRoute({
    method: 'post',
    path: '/invitations/{id}/open',
    tags: ['invitations'],
    summary: "Open an end user's invitation with its password; the user is then asked to accept",
    security: authenticated,
    request: { params: idParam, body: jsonBody(openInvitationSchema) },
    responses: {
      200: json(sessionJoinSchema, 'The session and a relay join token'),
      ...problems(400, 401, 403, 404, 409, 410, 429),
    },
  }),
};

import { createRoute } from '@hono/zod-openapi';
import { deviceReportSchema } from '../../protocol/index.ts';
import { throttleKey } from '../http/client-address.ts';
import { createApi, json, jsonBody, problems, z } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { spendOrRefuse } from '../throttle/too-frequent.ts';
import { isTokenError } from '../tokens/tokens.ts';
import { removeDevice } from './remove-device.ts';

/** An Ed25519 public key as a JWK, and nothing else (a private part is refused). */
const publicKeySchema = z
  .object({
    kty: z.literal('OKP'),
    crv: z.literal('Ed25519'),
    x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a base64url Ed25519 public key'),
  })
  .strict();

const routes = {
  enrol: createRoute({
    method: 'post',
    path: '/agent/enrol',
    tags: ['agent'],
    summary:
      "A resident agent enrols its device into the registration key's group with the public half of a key pair it generated",
    request: {
      body: jsonBody(
        z.object({
          registrationKey: z.string().min(1).max(200),
          publicKey: publicKeySchema,
          report: deviceReportSchema,
        }),
      ),
    },
    responses: {
      201: json(
        z.object({
          deviceId: z.string(),
          groupId: z.string(),
          serverKeys: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).meta({
            description:
              "The control plane's public signing keys (JWKS): the device keeps them and accepts orders signed with them only",
          }),
        }),
        'The device: from now on it signs its identity tokens with its private key',
      ),
      ...problems(400, 403, 429),
    },
  }),
  uninstall: createRoute({
    method: 'post',
    path: '/agent/uninstall',
    tags: ['agent'],
    summary:
      'A resident agent being uninstalled says so (Authorization: Bearer <identity token signed by the device>): the device is marked removed',
    security: [{ deviceAuth: [] }],
    responses: { 204: { description: 'Removed' }, ...problems(401) },
  }),
};

/**
 * The resident agent's HTTP endpoints. Enrolling needs a group's registration key and is throttled
 * per address like agent registrations; uninstalling needs the device's own signed token.
 */
export function enrolRoutes(services: Services) {
  const app = createApi();
  const { store, identity } = services.devices;

  app.openapi(routes.enrol, async (c) => {
    const address = c.get('address');
    // Enrolments share the agents' registration allowance per address.
    spendOrRefuse(
      services.registerThrottle,
      throttleKey(address),
      (s) => `Too many enrolments from this address. Try again in ${s} s.`,
    );
    const body = c.req.valid('json');
    const group = await services.groups.byRegistrationKey(body.registrationKey);
    if (!group) {
      await services.audit.record({ actorType: 'anonymous', action: 'device.enrol-refused', address });
      throw new ApiError(
        403,
        'FORBIDDEN',
        'This registration key is not valid (any more): ask for the current one.',
      );
    }
    const device = await store.enrol({
      organisationId: group.organisationId,
      deviceGroupId: group.id,
      publicJwk: body.publicKey,
      report: body.report,
    });
    await services.audit.record({
      actorType: 'agent',
      actorId: device.id,
      action: 'device.install',
      organisationId: device.organisationId,
      address,
      details: { deviceId: device.id, groupId: group.id, hostname: device.hostname, os: device.os },
    });
    return c.json({ deviceId: device.id, groupId: group.id, serverKeys: services.keys.jwks }, 201);
  });

  app.openapi(routes.uninstall, async (c) => {
    const [scheme, token] = (c.req.header('authorization') ?? '').split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token)
      throw new ApiError(
        401,
        'UNAUTHENTICATED',
        'Sign the request with the device key: Authorization: Bearer <token>.',
      );
    let device: Awaited<ReturnType<typeof identity.verify>>;
    try {
      device = await identity.verify(token);
    } catch (error) {
      if (isTokenError(error)) throw new ApiError(401, 'UNAUTHENTICATED', error.message);
      throw error;
    }
    await removeDevice(
      services,
      device,
      'uninstalled',
      { actorType: 'agent', actorId: device.id },
      c.get('address'),
    );
    return c.body(null, 204);
  });

  return app;
}

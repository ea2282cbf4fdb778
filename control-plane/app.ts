import { getConnInfo } from '@hono/node-server/conninfo';
import { createNodeWebSocket } from '@hono/node-ws';
import { OpenAPIHono } from '@hono/zod-openapi';
import { secureHeaders } from 'hono/secure-headers';
import { DEVICE_HUB_PATH, PROTOCOL_VERSION } from '../protocol/index.ts';
import { auditRoutes } from './audit/routes.ts';
import { SESSION_COOKIE } from './auth/authenticate.ts';
import { authRoutes } from './auth/routes.ts';
import {
  deviceAccessRoutes,
  deviceElevatedRoutes,
  deviceHubRoute,
  deviceRoutes,
  enrolRoutes,
} from './devices/index.ts';
import { downloadRoutes } from './downloads/index.ts';
import { groupRoutes } from './groups/routes.ts';
import { API_REFERENCE_CSS, renderApiReference } from './http/api-reference.ts';
import type { AppEnv } from './http/app-env.ts';
import { limitBodies } from './http/body-limit.ts';
import { clientAddress, trustedProxies } from './http/client-address.ts';
import { consoleRoutes } from './http/console-routes.ts';
import { overConnectionLimit } from './http/node-server.ts';
import { problemResponse, renderError } from './http/problem.ts';
import { invitationRoutes } from './invitations/index.ts';
import { METRICS_PATH, metricsRoute, timeRequests } from './metrics/index.ts';
import { operatorRoutes } from './operators/routes.ts';
import { organisationRoutes } from './organisations/routes.ts';
import { recordingRoutes } from './recordings/index.ts';
import { MAX_WS_MESSAGE_BYTES, relayRoute } from './relay/ws-route.ts';
import { channelRoutes, isFileUpload } from './remote-tools/index.ts';
import type { Services } from './services.ts';
import { agentRoutes } from './sessions/agent-routes.ts';
import { sessionRoutes } from './sessions/routes.ts';
import { sessionDownloadStamp } from './sessions/session-download.ts';

const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'Lifeline',
    version: '0.1.0',
    description:
      'Self-hosted remote assistance. Scripts authenticate with `Authorization: Bearer <API token>`; the console uses a login cookie. Errors are `application/problem+json` with a `code` to branch on. Lists page with `limit` and `cursor` → `nextCursor`. Creates accept an `Idempotency-Key` header.',
  },
};

/**
 * Builds the control plane's Hono app. Exported without a server so tests can call `app.request`;
 * `injectWebSocket` attaches the relay to a Node HTTP server.
 */
export function createApp(services: Services) {
  const app = new OpenAPIHono<AppEnv>();
  const { injectWebSocket, upgradeWebSocket, wss } = createNodeWebSocket({ app });
  // Bounded messages: a peer sending more than one access unit's worth is closed with 1009.
  wss.options.maxPayload = MAX_WS_MESSAGE_BYTES;

  const { matcher: isTrustedProxy } = trustedProxies(services.config.trustedProxies);
  app.use(timeRequests(services.metrics));
  // One client address for throttles, audit and logs, the relay's upgrade included.
  app.use(async (c, next) => {
    if (overConnectionLimit(c.env)) {
      const max = services.config.maxSocketsPerAddress;
      return problemResponse(
        c,
        429,
        'TOO_FREQUENT',
        `This address already holds ${max} connections to the server, the most allowed. Close some and retry.`,
        { Connection: 'close', 'Retry-After': '5' },
      );
    }
    let peer: string | undefined;
    try {
      peer = getConnInfo(c).remote.address;
    } catch {
      // app.request() in tests has no socket.
    }
    c.set('address', clientAddress(peer, c.req.header('x-forwarded-for'), isTrustedProxy));
    await next();
  });
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        // 'self' covers ws: and wss: of the page's own origin, the relay's address the console is given.
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
      },
    }),
  );
  app.use(limitBodies(services.config.maxBodyBytes, isFileUpload));
  app.onError(renderError(services.logger));
  app.notFound((c) => problemResponse(c, 404, 'NOT_FOUND', `Nothing at ${c.req.method} ${c.req.path}.`));

  app.get('/healthz', (c) => c.json({ status: 'ok', protocol: PROTOCOL_VERSION, node: services.node }));
  app.get(METRICS_PATH, metricsRoute(services));
  app.get('/.well-known/jwks.json', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(services.keys.jwks);
  });
  app.get('/ws', ...relayRoute(services, upgradeWebSocket));
  app.get(DEVICE_HUB_PATH, ...deviceHubRoute(services, upgradeWebSocket));
  for (const routes of [
    authRoutes,
    agentRoutes,
    enrolRoutes,
    deviceRoutes,
    deviceAccessRoutes,
    deviceElevatedRoutes,
    sessionRoutes,
    invitationRoutes,
    channelRoutes,
    recordingRoutes,
    groupRoutes,
    operatorRoutes,
    organisationRoutes,
    auditRoutes,
  ]) {
    app.route('/api', routes(services));
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'cookieAuth', {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'deviceAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An enrolled device\'s identity token, signed with its own key (README, "Devices")',
  });
  app.doc31('/openapi.json', OPENAPI_INFO);
  app.get('/docs', (c) => c.html(renderApiReference(app.getOpenAPI31Document(OPENAPI_INFO) as never)));
  app.get('/docs.css', (c) => c.body(API_REFERENCE_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' }));
  app.route('/', downloadRoutes(services, { stampSession: sessionDownloadStamp(services) }));
  app.route('/', consoleRoutes(services));

  return { app, injectWebSocket };
}

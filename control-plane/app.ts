import { getConnInfo } from '@hono/node-server/conninfo';
import { createNodeWebSocket } from '@hono/node-ws';
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { PROTOCOL_VERSION } from '../protocol/index.ts';
import { authRoutes } from './auth/routes.ts';
import type { AppEnv } from './http/app-env.ts';
import { consoleRoutes } from './http/console-routes.ts';
import { problemResponse, renderError } from './http/problem.ts';
import { MAX_WS_MESSAGE_BYTES, relayRoute } from './relay/ws-route.ts';
import type { Services } from './services.ts';
import { agentRoutes } from './sessions/agent-routes.ts';
import { sessionRoutes } from './sessions/routes.ts';

/**
 * Builds the control plane's Hono app. Exported without a server so tests can call `app.request`;
 * `injectWebSocket` attaches the relay to a Node HTTP server.
 */
export function createApp(services: Services) {
  const app = new Hono<AppEnv>();
  const { injectWebSocket, upgradeWebSocket, wss } = createNodeWebSocket({ app });
  // Bounded messages: a peer sending more than one access unit's worth is closed with 1009.
  wss.options.maxPayload = MAX_WS_MESSAGE_BYTES;

  app.use(async (c, next) => {
    let address = 'local';
    try {
      address = getConnInfo(c).remote.address ?? address;
    } catch {
      // app.request() in tests has no socket.
    }
    c.set('address', address);
    await next();
  });
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", 'ws:', 'wss:'],
        frameAncestors: ["'none'"],
      },
    }),
  );
  app.onError(renderError(services.logger));
  app.notFound((c) => problemResponse(c, 404, 'NOT_FOUND', `Nothing at ${c.req.method} ${c.req.path}.`));

  app.get('/healthz', (c) => c.json({ status: 'ok', protocol: PROTOCOL_VERSION, node: services.node }));
  app.get('/.well-known/jwks.json', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(services.keys.jwks);
  });
  app.get('/ws', ...relayRoute(services, upgradeWebSocket));
  app.route('/api', authRoutes(services));
  app.route('/api', agentRoutes(services));
  app.route('/api', sessionRoutes(services));
  app.route('/', consoleRoutes(services));

  return { app, injectWebSocket };
}

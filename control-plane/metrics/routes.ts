import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Handler, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../http/app-env.ts';
import { ApiError, problemResponse } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { EXPOSITION_CONTENT_TYPE, renderMetrics } from './exposition.ts';
import type { ServiceMetrics } from './service-metrics.ts';

/** Where Prometheus scrapes; not timed, so a scrape does not count itself. */
export const METRICS_PATH = '/metrics';

/**
 * The route pattern of the request, in the OpenAPI spelling (`/api/sessions/{id}`), never the raw
 * path: ids would make a series per session. It is the route that answered or, when a middleware
 * answered first (a 401), the route it stood in front of. A request no route matches is `unmatched`.
 */
function routePattern(c: Context): string {
  const routes = matchedRoutes(c);
  const answered = routes.at(c.req.routeIndex);
  // Middleware is registered for every method; routes for one.
  const route = answered?.method !== 'ALL' ? answered : routes.find((r) => r.method !== 'ALL');
  if (!route) return 'unmatched';
  return route.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}');
}

/**
 * Times every request but the scrape and counts throttle refusals (429), by method and route
 * pattern. Registered first, so a refusal of the connection limit counts too.
 */
export function timeRequests(metrics: ServiceMetrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.path === METRICS_PATH) return next();
    const started = performance.now();
    try {
      await next();
    } finally {
      const labels = { method: c.req.method, route: routePattern(c) };
      metrics.requestDuration.observe(labels, (performance.now() - started) / 1000);
      if (c.res.status === 429) metrics.throttleHits.inc(labels);
    }
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * `GET /metrics` for Prometheus, behind `Authorization: Bearer <LIFELINE_METRICS_TOKEN>`. Without
 * the variable the page does not exist (404): metrics are off by default.
 */
export function metricsRoute(services: Services): Handler<AppEnv> {
  const token = services.config.metricsToken;
  const expected = token === undefined ? undefined : digest(token);
  return (c) => {
    if (!expected) return problemResponse(c, 404, 'NOT_FOUND', `Nothing at ${c.req.method} ${c.req.path}.`);
    const [scheme, given] = (c.req.header('authorization') ?? '').split(' ');
    // Digests have one length, so the comparison takes as long whatever was sent.
    const right = scheme?.toLowerCase() === 'bearer' && timingSafeEqual(digest(given ?? ''), expected);
    if (!right) {
      throw new ApiError(401, 'UNAUTHENTICATED', 'Use "Authorization: Bearer <LIFELINE_METRICS_TOKEN>".', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    }
    const text = renderMetrics(services.metrics.families(services.relay.stats()));
    return c.body(text, 200, { 'Content-Type': EXPOSITION_CONTENT_TYPE, 'Cache-Control': 'no-store' });
  };
}

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROUTES, urlOf } from '../../console/app/api/routes.ts';
import { SCOPES } from '../../console/app/api/scopes.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';

interface OpenApiDocument {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
}

// The console uses the same documented API as scripts: every call it makes is a route of the served
// OpenAPI document, and the scopes it offers for tokens are the ones the API accepts.
describe('the console calls only documented API routes', () => {
  let cp: TestControlPlane;
  let document: OpenApiDocument;

  before(async () => {
    cp = await startControlPlane();
    document = (await (await cp.app.request('/openapi.json')).json()) as OpenApiDocument;
  });

  after(async () => {
    await cp?.stop();
  });

  it('every route the console calls is in /openapi.json with its method', () => {
    const missing = Object.entries(ROUTES)
      .filter(([, route]) => !document.paths[route.path]?.[route.method.toLowerCase()])
      .map(([name, route]) => `${name}: ${route.method} ${route.path}`);
    assert.deepEqual(missing, []);
  });

  it('the token form offers exactly the scopes POST /api/tokens accepts', () => {
    const body = document.paths['/api/tokens']?.['post']?.requestBody?.content['application/json']?.schema;
    const scopes = (body as { properties: { scopes: { items: { enum: string[] } } } }).properties.scopes.items
      .enum;
    assert.deepEqual([...SCOPES].sort(), [...scopes].sort());
  });

  it('builds URLs with encoded parameters and without empty query values', () => {
    assert.equal(
      urlOf(ROUTES.waitForSession, { id: 'a/b' }, { until: 'agent-connected', timeout: 25 }),
      '/api/sessions/a%2Fb/wait?until=agent-connected&timeout=25',
    );
    assert.equal(
      urlOf(ROUTES.listSessions, {}, { status: 'active', cursor: undefined }),
      '/api/sessions?status=active',
    );
    assert.equal(
      urlOf(ROUTES.listAuditEvents, {}, { sessionId: '', action: undefined }),
      '/api/audit-events',
    );
    assert.throws(() => urlOf(ROUTES.joinSession), /no value for \{id\}/);
  });
});

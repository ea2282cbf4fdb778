import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import {
  type ApiClient,
  assertProblem,
  type Credentials,
  createToken,
  expectJson,
  freshAddress,
  login,
  startWithAdmin,
} from '../support/api.ts';
import { ADMIN_USERNAME, type TestControlPlane } from '../support/control-plane.ts';

const CONSOLE_SOURCES = fileURLToPath(new URL('../../console/app/', import.meta.url));
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const MUTATING = new Set(['post', 'put', 'patch', 'delete']);

interface Operation {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
}
type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

/** `/api/sessions/{id}`, `/api/sessions/${encodeURIComponent(id)}` and `/api/sessions/:id` all become `/api/sessions/{}`. */
function routeShape(path: string): string {
  return path
    .replace(/[?#].*$/, '')
    .replace(/\$\{[^}]*\}/g, '{}')
    .replace(/\{\w+\}/g, '{}')
    .replace(/:\w+/g, '{}');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

/**
 * Every `METHOD /api/...` the console's sources name: route tables (`{ method: 'POST', path: '/api/…' }`)
 * direct calls (`apiRequest('POST', '/api/…')`) and bare `fetch('/api/…')` calls.
 */
function consoleRoutes(): Set<string> {
  const found = new Set<string>();
  const patterns = [
    /method:\s*'(GET|POST|PUT|PATCH|DELETE)',\s*path:\s*(['`])(\/api\/[^'`]*)\2/g,
    /apiRequest(?:<[^>]*>)?\(\s*'(GET|POST|PUT|PATCH|DELETE)',\s*(['`])(\/api\/[^'`]*)\2/g,
  ];
  for (const file of sourceFiles(CONSOLE_SOURCES)) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) found.add(`${match[1]} ${routeShape(match[3]!)}`);
    }
    // A bare fetch (the recording player streams a file) is a GET unless it says otherwise.
    for (const match of text.matchAll(
      /fetch\(\s*(['`])(\/api\/[^'`]*)\1(\s*,\s*\{[^}]*method:\s*'(\w+)')?/g,
    )) {
      found.add(`${match[4] ?? 'GET'} ${routeShape(match[2]!)}`);
    }
  }
  return found;
}

describe('the OpenAPI document and the error shape', () => {
  let cp: TestControlPlane;
  let api: ApiClient;
  let admin: Credentials;
  let doc: OpenApiDocument;

  function operations(): { method: (typeof METHODS)[number]; path: string; operation: Operation }[] {
    return Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.flatMap((method) => (item[method] ? [{ method, path, operation: item[method] }] : [])),
    );
  }

  /** Asserts the document lists `status` as a problem response of the operation. */
  function assertDocumented(method: string, path: string, status: number) {
    const operation = doc.paths[path]?.[method as (typeof METHODS)[number]];
    assert.ok(operation, `${method.toUpperCase()} ${path} is in the document`);
    const response = operation.responses[String(status)];
    assert.ok(response, `${method.toUpperCase()} ${path} documents ${status}`);
    assert.deepEqual(response.content?.['application/problem+json']?.schema, {
      $ref: '#/components/schemas/Problem',
    });
  }

  before(async () => {
    const started = await startWithAdmin();
    ({ cp, api, admin } = started);
    const response = await api.get('/openapi.json', undefined);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    doc = await expectJson<OpenApiDocument>(response, 200);
  });

  after(async () => {
    await cp.stop();
  });

  describe('/openapi.json', () => {
    it('is a valid OpenAPI 3.1 document, and all its references resolve', async () => {
      assert.equal(doc.openapi, '3.1.0');
      const validator = new Validator();
      const result = await validator.validate(structuredClone(doc));
      assert.deepEqual(result.errors ?? [], [], 'the validator found no error');
      assert.equal(result.valid, true);
      assert.equal(validator.version, '3.1');
      assert.doesNotThrow(() => validator.resolveRefs());
    });

    it('the validator refuses a broken copy, so the check above can fail', async () => {
      const broken = structuredClone(doc) as unknown as { paths: Record<string, Record<string, unknown>> };
      broken.paths['/api/sessions']!['get'] = { responses: { 200: { content: {} } } };
      const result = await new Validator().validate(broken);
      assert.equal(result.valid, false);
    });

    it('every route the console calls is in it, with its method', () => {
      const called = consoleRoutes();
      assert.ok(
        called.has('POST /api/auth/login'),
        `the console's routes were found: ${[...called].join(', ')}`,
      );
      assert.ok(called.has('POST /api/sessions/redeem'));
      assert.ok(called.has('GET /api/sessions/{}/recording/content'), 'bare fetch calls are found too');
      const documented = new Set(
        operations().map(({ method, path }) => `${method.toUpperCase()} ${routeShape(path)}`),
      );
      const missing = [...called].filter((route) => !documented.has(route));
      assert.deepEqual(missing, [], 'routes the console calls that the document lacks');
    });

    it('every route that changes something documents its problem responses as application/problem+json', () => {
      const mutating = operations().filter(({ method }) => MUTATING.has(method));
      assert.ok(mutating.length >= 15);
      for (const { method, path, operation } of mutating) {
        const problems = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
        assert.ok(problems.length > 0, `${method.toUpperCase()} ${path} documents no problem response`);
        for (const [status] of problems) assertDocumented(method, path, Number(status));
        const success = Object.keys(operation.responses).filter((status) => Number(status) < 300);
        assert.ok(success.length > 0, `${method.toUpperCase()} ${path} documents its success`);
      }
    });

    it('every operation has a summary and a tag, and the ones needing a login or token say so', () => {
      const open = new Set([
        'POST /api/auth/login',
        'POST /api/agent/register',
        'POST /api/agent/join',
        // The end user has no account: like registering, an agent creates an invitation unauthenticated.
        'POST /api/agent/invitations',
        // A registration key in the body is the credential.
        'POST /api/agent/enrol',
      ]);
      for (const { method, path, operation } of operations()) {
        const name = `${method.toUpperCase()} ${path}`;
        assert.ok(operation.summary && operation.tags?.length, `${name} has a summary and a tag`);
        if (open.has(name)) continue;
        assert.ok(operation.security?.length, `${name} names its authentication`);
        for (const requirement of operation.security) {
          for (const scheme of Object.keys(requirement)) {
            assert.ok(doc.components.securitySchemes[scheme], `${name}: scheme ${scheme} is defined`);
          }
        }
        assertDocumented(method, path, 401);
      }
    });

    it('the document tells the truth about authentication: each secured route refuses a request without it (401)', async () => {
      for (const { method, path, operation } of operations()) {
        const url = path.replace(/\{\w+\}/g, 'some-id');
        const response = await api.request(
          method.toUpperCase(),
          url,
          undefined,
          MUTATING.has(method) ? {} : undefined,
          {
            address: freshAddress(),
          },
        );
        if (operation.security?.length) {
          await assertProblem(response, 401, 'UNAUTHENTICATED');
        } else {
          assert.notEqual(response.status, 401, `${method.toUpperCase()} ${path} is open`);
        }
      }
    });
  });

  describe('/docs', () => {
    it('renders an HTML reference naming each path and method, styled without inline styles', async () => {
      const response = await api.get('/docs', undefined);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
      const html = await response.text();
      assert.match(html, /^<!doctype html>/i);
      for (const { method, path } of operations()) {
        assert.ok(html.includes(`<code>${path}</code>`), `the reference names ${path}`);
        assert.ok(
          html.includes(`<span class="m ${method}">${method}</span> <code>${path}</code>`),
          `${method} ${path}`,
        );
      }
      assert.ok(!/<script/i.test(html), 'no scripts');
      assert.ok(!/ style=/i.test(html), 'no inline styles, which the CSP would block');
      const css = await api.get('/docs.css', undefined);
      assert.equal(css.status, 200);
      assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    });
  });

  describe('one error shape everywhere', () => {
    it('400, 401, 403, 404, 409, 410, 422 and 429 are each application/problem+json with type, title, status, code and detail, as documented', async () => {
      const readOnly: Credentials = { token: (await createToken(api, admin, ['sessions:read'])).token };

      assertDocumented('post', '/api/sessions/redeem', 400);
      await assertProblem(
        await api.post('/api/sessions/redeem', admin, { code: 42 }),
        400,
        'VALIDATION_FAILED',
      );

      assertDocumented('get', '/api/sessions', 401);
      await assertProblem(await api.get('/api/sessions', undefined), 401, 'UNAUTHENTICATED');

      assertDocumented('post', '/api/sessions', 403);
      await assertProblem(await api.post('/api/sessions', readOnly, {}), 403, 'FORBIDDEN');

      assertDocumented('get', '/api/sessions/{id}', 404);
      await assertProblem(await api.get('/api/sessions/no-such-session', admin), 404, 'SESSION_NOT_FOUND');
      await assertProblem(await api.get('/api/no-such-route', admin), 404, 'NOT_FOUND');

      assertDocumented('post', '/api/operators', 409);
      await assertProblem(
        await api.post('/api/operators', admin, {
          username: ADMIN_USERNAME,
          name: 'Again',
          password: 'a long enough passphrase',
          role: 'technician',
          organisationId: (
            await expectJson<{ items: { id: string }[] }>(await api.get('/api/organisations', admin), 200)
          ).items[0]!.id,
        }),
        409,
        'CONFLICT',
      );

      assertDocumented('post', '/api/sessions/{id}/join', 410);
      const { session } = await expectJson<{ session: { id: string } }>(
        await api.post('/api/sessions', admin, {}),
        201,
      );
      await expectJson(await api.post(`/api/sessions/${session.id}/end`, admin), 200);
      await assertProblem(await api.post(`/api/sessions/${session.id}/join`, admin), 410, 'SESSION_ENDED');

      assertDocumented('post', '/api/sessions', 422);
      const key = randomUUID();
      await expectJson(
        await api.post('/api/sessions', admin, {}, { headers: { 'idempotency-key': key } }),
        201,
      );
      await assertProblem(
        await api.post(
          '/api/sessions',
          admin,
          { deviceGroupId: 'other' },
          { headers: { 'idempotency-key': key } },
        ),
        422,
        'IDEMPOTENCY_MISMATCH',
      );

      assertDocumented('post', '/api/auth/login', 429);
      const address = freshAddress();
      let throttled: Response | undefined;
      for (let attempt = 0; attempt < 20 && !throttled; attempt++) {
        const response = await login(api, `nobody-${attempt}`, 'not a password at all', undefined, address);
        if (response.status === 429) throttled = response;
        else await assertProblem(response, 401, 'UNAUTHENTICATED');
      }
      assert.ok(throttled, 'wrong logins from one address are throttled');
      assert.match(throttled.headers.get('retry-after') ?? '', /^\d+$/);
      await assertProblem(throttled, 429, 'TOO_FREQUENT');
    });

    it('a refused create replayed with its Idempotency-Key comes back in the same problem shape', async () => {
      const key = randomUUID();
      const body = { deviceGroupId: 'no-such-group' };
      const first = await assertProblem(
        await api.post('/api/sessions', admin, body, { headers: { 'idempotency-key': key } }),
        404,
        'NOT_FOUND',
      );
      const again = await api.post('/api/sessions', admin, body, { headers: { 'idempotency-key': key } });
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(await assertProblem(again, 404, 'NOT_FOUND'), first);
    });
  });
});
